package dev.braid.dist;

import dev.braid.bpf.testing.Kernel;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Podman's Docker API on the socket that DOCKER_HOST names for Testcontainers (the pom sets
 * both): started for the tests when nothing listens there, stopped after them.
 */
final class PodmanService implements AutoCloseable {
  private static final Path SOCKET = Path.of(System.getProperty("braid.podman.socket", "/run/braid-podman.sock"));
  private final Process service;

  private PodmanService(Process service) {
    this.service = service;
  }

  /** Listening, or the test skipped (failed under CI=true) with the reason. */
  static PodmanService start() throws IOException, InterruptedException {
    if (listening()) {
      return new PodmanService(null);
    }
    if (!Files.isExecutable(Path.of("/usr/bin/podman"))) {
      Kernel.skipOrFail("podman is not installed: apt-get install podman runc (./braid test installs them)");
    }
    Files.deleteIfExists(SOCKET);
    ProcessBuilder pb = new ProcessBuilder("podman", "system", "service", "--time", "0", "unix://" + SOCKET).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("CONTAINERS_CONF", System.getProperty("braid.containers.conf", "containers.conf"));
    Process service = pb.start();
    for (int i = 0; i < 100 && !listening(); i++) {
      TimeUnit.MILLISECONDS.sleep(100);
    }
    if (!listening()) {
      service.destroy();
      Kernel.skipOrFail("podman system service did not listen on " + SOCKET + " within 10 s");
    }
    return new PodmanService(service);
  }

  private static boolean listening() {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      return ch.connect(UnixDomainSocketAddress.of(SOCKET));
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (service != null) {
      service.destroy();
      service.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
