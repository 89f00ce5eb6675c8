package dev.braid.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * braid's image, run as the README says (privileged, the host's PID namespace, bpffs mounted),
 * through Testcontainers and Podman's Docker API, traces a Go service in another container and
 * names that container in its spans' resource.
 */
class ImageIT {
  private static final DockerImageName IMAGE = DockerImageName.parse(Release.IMAGE);
  private static PodmanService podman;

  @TempDir Path out;

  @BeforeAll
  static void podman() throws Exception {
    podman = PodmanService.start();
  }

  @AfterAll
  static void stopPodman() throws Exception {
    if (podman != null) {
      podman.close();
    }
  }

  @Test
  void theImageTracesAServiceInAnotherContainer() throws Exception {
    Kernel.requireBpf();
    // The service: the example shop, which the image carries, in a container of its own.
    try (GenericContainer<?> shop = new GenericContainer<>(IMAGE).withCreateContainerCmdModifier(cmd -> cmd.withEntrypoint("/opt/braid/examples/shop"))
            .withCommand("-addr", "0.0.0.0:8080").withExposedPorts(8080).waitingFor(Wait.forHttp("/hello").forPort(8080)); // (a port check would need a shell in the image)
        PinRoot pins = PinRoot.create()) {
      shop.start();
      long shopPid = shop.getContainerInfo().getState().getPidLong();
      try (GenericContainer<?> braid = new GenericContainer<>(IMAGE)
          .withPrivilegedMode(true)
          .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPidMode("host"))
          .withFileSystemBind("/sys/fs/bpf", "/sys/fs/bpf", BindMode.READ_WRITE)
          .withFileSystemBind(out.toString(), "/out", BindMode.READ_WRITE)
          .withCommand("run", "--pid", Long.toString(shopPid), "--out", "/out", "--pin-path", pins.path().toString(), "--duration", "12s", "--flush-interval", "1s")
          .withEnv("OTEL_RESOURCE_ATTRIBUTES", "k8s.node.name=node-1")
          .waitingFor(Wait.forLogMessage("ready\\n", 1).withStartupTimeout(Duration.ofSeconds(60)))) {
        braid.start();
        String url = "http://" + shop.getHost() + ":" + shop.getMappedPort(8080) + "/hello";
        for (int i = 1; i <= 3; i++) {
          assertThat(Release.get(url, "4bf92f3577b34da6a3ce929d0e0e47b" + i)).isEqualTo(200);
        }
        for (int i = 0; i < 300 && braid.isRunning(); i++) {
          Thread.sleep(100);
        }
        assertThat(braid.getCurrentContainerInfo().getState().getExitCodeLong()).as("braid's exit status; it said:\n%s", braid.getLogs()).isZero();
      }
      List<Release.ExportedSpan> spans = Release.spans(out.resolve("traces.jsonl"));
      for (int i = 1; i <= 3; i++) {
        Map<String, String> resource = Release.serverSpan(spans, "4bf92f3577b34da6a3ce929d0e0e47b" + i).resource();
        assertThat(resource).containsEntry("container.id", shop.getContainerId()).containsEntry("process.pid", Long.toString(shopPid))
            .containsEntry("process.executable.path", "/opt/braid/examples/shop").containsEntry("k8s.node.name", "node-1");
      }
    }
  }
}
