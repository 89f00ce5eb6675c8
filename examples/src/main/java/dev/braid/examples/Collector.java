package dev.braid.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real OpenTelemetry Collector (examples/collector/builder.yaml: OTLP receiver with profiles,
 * file exporter) for tests: built once per machine with the collector builder from the Go module
 * proxy and cached under {@code ~/.cache/braid/collector}; started on free ports, writing what it
 * receives to {@code traces.jsonl} and {@code profiles.jsonl} (appended across restarts).
 */
public final class Collector implements AutoCloseable {
  static final String BUILDER = "go.opentelemetry.io/collector/cmd/builder@v0.162.0";

  private final Path binary;
  private final Path dir;
  private final int grpcPort;
  private final int httpPort;
  private Process process;

  private Collector(Path binary, Path dir, int grpcPort, int httpPort) {
    this.binary = binary;
    this.dir = dir;
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
  }

  /**
   * Builds the collector if needed and starts it in a new temporary directory, on ports that were
   * free a moment before: when another process took one meanwhile, it tries again on others.
   */
  public static Collector start() {
    for (int attempt = 1; ; attempt++) {
      try {
        Path dir = Files.createTempDirectory("braid-collector");
        Collector c = new Collector(binary(), dir, freePort(), freePort());
        Files.writeString(dir.resolve("config.yaml"), config("127.0.0.1:" + c.grpcPort, "127.0.0.1:" + c.httpPort, dir.toString()));
        try {
          c.startAgain();
        } catch (IllegalStateException e) {
          if (attempt < 3 && Files.readString(c.log()).contains("address already in use")) {
            continue;
          }
          throw e;
        }
        return c;
      } catch (IOException e) {
        throw new UncheckedIOException("starting the collector", e);
      }
    }
  }

  /**
   * The configuration of examples/collector: OTLP receivers at these addresses (HOST:PORT), and
   * the file exporter writing traces.jsonl and profiles.jsonl into {@code out}.
   */
  public static String config(String grpcAddress, String httpAddress, String out) throws IOException {
    return Files.readString(source().resolve("config.yaml"))
        .replace("127.0.0.1:@GRPC_PORT@", grpcAddress)
        .replace("127.0.0.1:@HTTP_PORT@", httpAddress)
        .replace("@OUT@", out);
  }

  /** {@code http://127.0.0.1:PORT} of the OTLP/gRPC receiver. */
  public String grpcEndpoint() {
    return "http://127.0.0.1:" + grpcPort;
  }

  /** {@code http://127.0.0.1:PORT} of the OTLP/HTTP receiver. */
  public String httpEndpoint() {
    return "http://127.0.0.1:" + httpPort;
  }

  public Path tracesFile() {
    return dir.resolve("traces.jsonl");
  }

  public Path profilesFile() {
    return dir.resolve("profiles.jsonl");
  }

  /** The collector's own log (stdout and stderr). */
  public Path log() {
    return dir.resolve("collector.log");
  }

  /** Stops the collector (SIGTERM: it flushes its files), leaving its files and ports. */
  public void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  /**
   * Starts the stopped collector again, on the same ports; returns once it says it is ready
   * (both receivers bound: a port some other process holds would make it exit instead).
   */
  public void startAgain() {
    if (process != null) {
      throw new IllegalStateException("the collector is running");
    }
    try {
      process =
          new ProcessBuilder(binary.toString(), "--config", dir.resolve("config.yaml").toString(), "--feature-gates=service.profilesSupport")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
              .start();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      long logFrom = Files.exists(log()) ? Files.size(log()) : 0;
      while (!(readySince(logFrom) && listening(grpcPort) && listening(httpPort))) {
        if (!process.isAlive()) {
          throw new IllegalStateException("the collector exited with " + process.exitValue() + ":\n" + Files.readString(log()));
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the collector did not listen within 30 s:\n" + Files.readString(log()));
        }
        Thread.sleep(50);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("starting " + binary, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The lines the file exporter wrote. The collector is stopped first (if it runs): on SIGTERM it
   * exports what its pipelines hold and flushes its files, so nothing it accepted is missing.
   */
  public List<String> lines(Path file) {
    stop();
    try {
      return Files.exists(file) ? Files.readAllLines(file) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops the collector and removes its directory (its config, log and files). */
  @Override
  public void close() {
    stop();
    try {
      GoBuilds.deleteTree(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("removing " + dir, e);
    }
  }

  /** The cached collector binary, built first when this machine has none for this builder.yaml. */
  public static synchronized Path binary() {
    Path source = source();
    Path home = GoBuilds.cache().resolve("collector");
    Path out = home.resolve(GoTools.hash(source)).resolve("otelcol-braid");
    if (Files.isExecutable(out)) {
      return out;
    }
    System.err.println("braid: building the OpenTelemetry Collector for the export tests (once per machine: ~2 min, ~500 MB of Go modules)");
    try {
      Path work = Files.createTempDirectory("braid-collector-build");
      copyTree(source.resolve("stubs"), work.resolve("stubs"));
      Files.writeString(
          work.resolve("builder.yaml"),
          Files.readString(source.resolve("builder.yaml")).replace("@OUTPUT@", work.resolve("dist").toString()).replace("@STUBS@", work.resolve("stubs").toString()));
      Path bin = home.resolve("bin");
      GoTools.run(work, List.of("go", "install", BUILDER), bin);
      GoTools.run(work, List.of(bin.resolve("builder").toString(), "--config", work.resolve("builder.yaml").toString()), bin);
      Files.createDirectories(out.getParent());
      Files.move(work.resolve("dist").resolve("otelcol-braid"), out, StandardCopyOption.REPLACE_EXISTING);
      GoBuilds.deleteTree(work);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("building the collector", e);
    }
  }

  static Path source() {
    return GoBuilds.sourceRoot().resolve("collector");
  }

  /** Whether the collector's log says, after its first {@code from} bytes (an earlier run's), that it is ready. */
  private boolean readySince(long from) throws IOException {
    String text = Files.readString(log());
    return text.length() > from && text.substring((int) Math.min(from, text.length())).contains("Everything is ready");
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
  }
}
