package dev.braid.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.model.Capability;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.examples.Collector;
import dev.braid.examples.ExampleService;
import java.nio.file.Files;
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
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * braid's image, run as the README says (two capabilities, the host's PID namespace, bpffs mounted),
 * through Testcontainers on Podman's Docker API, with nothing pulled: it traces a Go service on the
 * host and one in another container, and exports to an OpenTelemetry Collector in a third (an image
 * built here from the collector the export tests build). What the collector received is checked
 * against what was sent: each request's span, named with its process (and the service's container),
 * and the CPU samples of the
 * request that burned CPU, linked to its span and taken in the function that burns it.
 */
class ImageIT {
  private static final DockerImageName IMAGE = DockerImageName.parse(Release.IMAGE);
  /** The service's binary, at a path that braid's own container lacks: braid reaches it through /proc/PID/root. */
  private static final String SHOP = "/srv/app/shop";
  private static final String BURN_TRACE = "4bf92f3577b34da6a3ce929d0e0e47c0";
  private static final String HOST_TRACE = "4bf92f3577b34da6a3ce929d0e0e47d"; // + 1..3
  private static PodmanService podman;

  @TempDir Path received;

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

  private static GenericContainer<?> collector(Path out) throws Exception {
    ImageFromDockerfile image = new ImageFromDockerfile("localhost/braid-test-collector", false)
        .withFileFromPath("otelcol", Collector.binary())
        .withFileFromString("config.yaml", Collector.config("0.0.0.0:4317", "0.0.0.0:4318", "/out"))
        .withDockerfileFromBuilder(b -> b.from("scratch").copy("otelcol", "/otelcol").copy("config.yaml", "/config.yaml")
            .entryPoint("/otelcol", "--config", "/config.yaml", "--feature-gates=service.profilesSupport").build());
    return new GenericContainer<>(image).withExposedPorts(4317).withFileSystemBind(out.toString(), "/out", BindMode.READ_WRITE)
        .waitingFor(Wait.forLogMessage(".*Everything is ready.*", 1));
  }

  @Test
  void theImageTracesAServiceOnTheHostAndOneInAnotherContainerAndExportsToACollectorInAThird() throws Exception {
    Kernel.requireBpf();
    Path hostBinary = Release.DIR.resolve(Release.NAME).resolve("examples/shop");
    try (GenericContainer<?> collector = collector(received);
        ExampleService hostShop = ExampleService.start(hostBinary, "-addr", "127.0.0.1:0");
        GenericContainer<?> shop = new GenericContainer<>(IMAGE)
            .withCopyFileToContainer(MountableFile.forHostPath(Release.DIR.resolve(Release.NAME).resolve("examples/shop"), 0755), SHOP)
            .withCreateContainerCmdModifier(cmd -> cmd.withEntrypoint(SHOP))
            .withCommand("-addr", "0.0.0.0:8080").withExposedPorts(8080)
            .waitingFor(Wait.forHttp("/hello").forPort(8080)); // (a port check would need a shell in the image)
        PinRoot pins = PinRoot.create()) {
      collector.start();
      shop.start();
      long shopPid = shop.getContainerInfo().getState().getPidLong();
      try (GenericContainer<?> braid = new GenericContainer<>(IMAGE)
          // not privileged: the two capabilities README names (bpf() and perf_event_open() pass the
          // runtime's default seccomp profile with SYS_ADMIN; SYS_PTRACE lets it into other processes);
          // the host's PID namespace; the host's network, to reach the collector's published port
          .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPidMode("host").withNetworkMode("host")
              .withCapDrop(Capability.ALL).withCapAdd(Release.CAPABILITIES.stream().map(Capability::valueOf).toArray(Capability[]::new)))
          .withFileSystemBind("/sys/fs/bpf", "/sys/fs/bpf", BindMode.READ_WRITE)
          .withCommand("run", "--pid", shopPid + "," + hostShop.pid(), "--no-files", "--pin-path", pins.path().toString(), "--duration", "12s",
              "--flush-interval", "1s", "--sample-hz", "499")
          .withEnv(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + collector.getMappedPort(4317), "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc",
              "OTEL_RESOURCE_ATTRIBUTES", "k8s.node.name=node-1"))
          .waitingFor(Wait.forLogMessage("ready\\n", 1).withStartupTimeout(Duration.ofSeconds(60)))) {
        braid.start();
        String url = "http://" + shop.getHost() + ":" + shop.getMappedPort(8080);
        for (int i = 1; i <= 3; i++) {
          assertThat(Release.get(url + "/hello", "4bf92f3577b34da6a3ce929d0e0e47b" + i)).isEqualTo(200);
        }
        assertThat(Release.get(url + "/checkout?ms=300", BURN_TRACE)).isEqualTo(200);
        for (int i = 1; i <= 3; i++) {
          assertThat(Release.get(hostShop.url() + "/hello", HOST_TRACE + i)).isEqualTo(200);
        }
        for (int i = 0; i < 300 && braid.isRunning(); i++) {
          Thread.sleep(100);
        }
        assertThat(braid.isRunning()).as("braid stopped at --duration; it said:\n%s", braid.getLogs()).isFalse();
        assertThat(braid.getCurrentContainerInfo().getState().getExitCodeLong()).as("braid's exit status; it said:\n%s", braid.getLogs()).isZero();
      }
      collector.stop(); // SIGTERM: it exports what its pipelines hold and flushes its files

      List<Release.ExportedSpan> spans = Release.spans(received.resolve("traces.jsonl"));
      for (String trace : List.of("4bf92f3577b34da6a3ce929d0e0e47b1", "4bf92f3577b34da6a3ce929d0e0e47b2", "4bf92f3577b34da6a3ce929d0e0e47b3", BURN_TRACE)) {
        assertThat(Release.serverSpan(spans, trace).resource()).containsEntry("container.id", shop.getContainerId())
            .containsEntry("process.pid", Long.toString(shopPid)).containsEntry("process.executable.path", SHOP).containsEntry("k8s.node.name", "node-1");
      }
      for (int i = 1; i <= 3; i++) {
        assertThat(Release.serverSpan(spans, HOST_TRACE + i).resource()).as("the service on the host")
            .containsEntry("process.pid", Long.toString(hostShop.pid())).containsEntry("process.executable.path", hostBinary.toString())
            .containsEntry("k8s.node.name", "node-1").doesNotContainEntry("container.id", shop.getContainerId());
      }
      List<Release.ProfiledSample> burning = Release.samples(received.resolve("profiles.jsonl")).stream().filter(s -> s.traceId().equals(BURN_TRACE)).toList();
      Figures.atLeast("samples linked to the 300 ms CPU burn's span", burning.size(), 20);
      long inPriceCart = burning.stream().filter(s -> s.functions().contains("main.priceCart")).count();
      Figures.atLeast("of those, taken in main.priceCart (%)", 100 * inPriceCart / burning.size(), 80);
    }
  }
}
