package dev.braid.correlator.cli;

import dev.braid.correlator.Daemon;
import dev.braid.correlator.DaemonConfig;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    description = {
      "The main job on its embedded default: runs the example Go service 'shop' under braid, drives it with",
      "requests that carry W3C traceparent headers, writes DIR, and prints what braid found."
    })
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--out", paramLabel = "DIR", defaultValue = "braid-out", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--duration", paramLabel = "D", converter = Durations.class, defaultValue = "20s", description = "how long the load runs (default: ${DEFAULT-VALUE})")
  Duration duration;

  @Option(names = "--examples", paramLabel = "DIR", description = "where the example Go programs are built (default: examples/target/bin of the braid checkout)")
  Path examples;

  @Option(names = "--pin-path", paramLabel = "DIR", defaultValue = "/sys/fs/bpf", description = "bpffs directory (default: ${DEFAULT-VALUE})")
  Path pinPath;

  @Override
  public Integer call() throws Exception {
    Path bin = examples != null ? examples : Examples.bin();
    Path shop = bin.resolve("shop");
    Path loadgen = bin.resolve("loadgen");
    for (Path p : List.of(shop, loadgen)) {
      if (!Files.isExecutable(p)) {
        throw new UsageException(p + " is missing: build the examples first (./braid build)");
      }
    }
    RuntimeGate.requireRunnable(pinPath);
    Files.createDirectories(out);

    // Step 1: the service, with one goroutine that burns CPU outside any request.
    say("starting the example service " + shop);
    try (ExampleService service = ExampleService.start(shop, "-addr", "127.0.0.1:0", "-spinners", "1")) {
      // Step 2: braid attaches to every process of that binary.
      DemoSummary summary = new DemoSummary();
      DaemonConfig config = DaemonConfig.forExecutable(shop, out, pinPath).withFlushInterval(Duration.ofSeconds(5));
      try (Daemon daemon = RuntimeGate.starting(() -> Daemon.start(config, summary))) {
        say("braid is tracing shop (pid " + service.pid() + "); sending load for " + duration.toSeconds() + " s");
        // Step 3: load with known traceparent headers; the record of what was sent goes next to the output.
        Process load =
            new ProcessBuilder(
                    loadgen.toString(),
                    "-target", "http://" + service.address(),
                    // /dispatch hands a value over a buffered channel to a later /receive: span links.
                    "-routes", "/checkout?ms=4,/dispatch?via=buffered,/search?ms=2,/receive?via=buffered",
                    "-c", "2",
                    "-d", duration.toSeconds() + "s",
                    "-out", out.resolve("requests.jsonl").toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        long deadline = System.nanoTime() + duration.toNanos() + TimeUnit.SECONDS.toNanos(30);
        while (!load.waitFor(5, TimeUnit.SECONDS)) {
          say("... " + summary.spans() + " spans so far");
          if (System.nanoTime() > deadline) {
            load.destroyForcibly();
            throw new IllegalStateException("the load generator did not stop");
          }
        }
        say("load done; writing the last batch");
      }
      // Step 4: what braid found.
      System.out.println();
      summary.print(System.out, 3);
      System.out.println();
      System.out.println("written to " + out.toAbsolutePath() + ":");
      System.out.println("  traces.jsonl     OTLP/JSON spans (one ExportTraceServiceRequest per line)");
      System.out.println("  profiles.jsonl   OTLP/JSON profiles, samples linked to their spans (one ExportProfilesServiceRequest per line)");
      System.out.println("  pprof/*.pb.gz    CPU profiles; samples in spans carry trace_id, span_id, span_name labels");
      System.out.println("  requests.jsonl   what the load generator sent (the ground truth)");
      System.out.println("try: go tool pprof -tags " + out.resolve("pprof") + "/shop-*.pb.gz");
    }
    return 0;
  }

  private static void say(String s) {
    System.err.println("braid: " + s);
  }

}
