package dev.braid.daemon.cli;

import dev.braid.daemon.Daemon;
import dev.braid.daemon.DaemonConfig;
import dev.braid.conformance.ServiceProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    description = {
      "The main job on its embedded default: runs the example Go services 'shop' (HTTP) and 'grpcshop' (gRPC)",
      "under braid, drives them with requests that carry W3C traceparent headers (gRPC: metadata), writes DIR,",
      "and prints what braid found."
    })
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--out", paramLabel = "DIR", defaultValue = "braid-out", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--duration", paramLabel = "D", converter = Durations.class, defaultValue = "20s", description = "how long the load runs (default: ${DEFAULT-VALUE})")
  Duration duration;

  @Option(names = "--examples", paramLabel = "DIR", description = "where the example Go programs are built (default: the ones braid came with)")
  Path examples;

  @Option(names = "--pin-path", paramLabel = "DIR", defaultValue = "/sys/fs/bpf", description = "bpffs directory (default: ${DEFAULT-VALUE})")
  Path pinPath;

  @Override
  public Integer call() throws Exception {
    ExamplePrograms programs = ExamplePrograms.of(examples);
    Path shop = programs.binary("shop");
    Path grpcshop = programs.binary("grpcshop");
    Path loadgen = programs.binary("loadgen");
    Path grpcload = programs.binary("grpcload");
    RuntimeGate.requireRunnable(pinPath);
    Files.createDirectories(out);

    // Step 1: the services; shop has one goroutine that burns CPU outside any request.
    say("starting the example services " + shop + " (HTTP) and " + grpcshop + " (gRPC)");
    try (ServiceProcess service = ServiceProcess.start(shop, "-addr", "127.0.0.1:0", "-spinners", "1");
        ServiceProcess grpc = ServiceProcess.start(grpcshop, "-addr", "127.0.0.1:0")) {
      // Step 2: braid attaches to both processes.
      DemoSummary summary = new DemoSummary();
      DaemonConfig config = DaemonConfig.wholeHost(out, pinPath).withPids(Set.of(service.pid(), grpc.pid())).withFlushInterval(Duration.ofSeconds(5));
      try (Daemon daemon = RuntimeGate.starting(() -> Daemon.start(config, summary))) {
        say("braid is tracing shop (pid " + service.pid() + ") and grpcshop (pid " + grpc.pid() + "); sending load for " + duration.toSeconds() + " s");
        // Step 3: load with known traceparents; the record of what was sent goes next to the output.
        List<Process> loads = List.of(
            load(loadgen, "http://" + service.address(),
                // /dispatch hands a value over a buffered channel to a later /receive: span links.
                "/checkout?ms=4,/dispatch?via=buffered,/search?ms=2,/receive?via=buffered", out.resolve("requests.jsonl")),
            load(grpcload, grpc.address(), "Checkout:2,ListItems:2,Fail:1", out.resolve("rpcs.jsonl")));
        long deadline = System.nanoTime() + duration.toNanos() + TimeUnit.SECONDS.toNanos(30);
        for (Process load : loads) {
          while (!load.waitFor(5, TimeUnit.SECONDS)) {
            say("... " + summary.spans() + " spans so far");
            if (System.nanoTime() > deadline) {
              loads.forEach(Process::destroyForcibly);
              throw new IllegalStateException("the load generators did not stop");
            }
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
      System.out.println("  requests.jsonl   what the HTTP load generator sent (the ground truth); rpcs.jsonl: the gRPC one");
      System.out.println("  report.html      where each request spent its CPU: routes, traces, span links, flame graphs (open it in a browser)");
      System.out.println("try: go tool pprof -tags " + out.resolve("pprof") + "/shop-*.pb.gz   (or grpcshop-*.pb.gz)");
    }
    ReportCommand.afterRun(out);
    return 0;
  }

  /** A load generator (loadgen or grpcload: the same flags) sending {@code routes} to {@code target} for the demo's duration. */
  private Process load(Path generator, String target, String routes, Path record) throws IOException {
    return new ProcessBuilder(
            generator.toString(), "-target", target, "-routes", routes, "-c", "2", "-d", duration.toSeconds() + "s", "-out", record.toString())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
  }

  private static void say(String s) {
    System.err.println("braid: " + s);
  }
}
