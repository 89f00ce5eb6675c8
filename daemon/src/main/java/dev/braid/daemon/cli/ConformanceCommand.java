package dev.braid.daemon.cli;

import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.Report;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import dev.braid.bpf.TracesContextMap;
import dev.braid.correlator.HostPort;
import dev.braid.conformance.ReferenceWriter;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "conformance",
    description = {
      "Judges a writer of traces_ctx_v1 against spec/traces_ctx_v1.md. It runs the example Go service 'shop' under the"
          + " writer (--writer-cmd; {exe}, {pin-path}, {otlp-endpoint} and {otlp-grpc-endpoint} are replaced), checks the pin while requests run and"
          + " end and a process dies, audits every entry at 10 kHz against the spans the writer exports to the suite's"
          + " OTLP receiver (OTLP/HTTP protobuf or JSON, OTLP/gRPC), starts a second writer, meets the writer with a foreign pin, and stops it; then it starts"
          + " the writer for the gRPC service 'grpcshop' and audits its calls the same way.",
      "Every check is of the contract level (what OTEP 4855 requires) or of braid's stricter profile; a writer is conformant"
          + " when every contract check passes. Prints a report (text, and JSON with --json); exit 0 when conformant"
          + " (with --require-profile: and every profile check passed), 1 when not. --running-writer judges a writer already running;"
          + " --reference-writer is a writer instead, with known contexts on known threads, for judging readers.",
      ""
    })final class ConformanceCommand implements Callable<Integer> {
  @ArgGroup(multiplicity = "1")
  Subject subject;

  static final class Subject {
    @Option(
        names = "--writer-cmd",
        paramLabel = "CMD",
        description = "the writer to judge, run with sh -c; e.g. \"./braid run --mode writer --exe {exe} --pin-path {pin-path}\"")
    String writerCommand;

    @Option(
        names = "--running-writer",
        description = {
          "judge a writer that is already running: it must trace --exe (a copy of examples' shop where it looks), pin under",
          "--pin-path (default /sys/fs/bpf) and export spans to --otlp-listen (OTLP/HTTP) or --otlp-grpc-listen (OTLP/gRPC);"
              + " checks that start or stop writers are not run"
        })
    boolean runningWriter;

    @Option(
        names = "--reference-writer",
        description = "run examples/pinned and give its worker threads known contexts, for a profiler to be checked against; prints them, runs until stopped or --duration")
    boolean referenceWriter;
  }

  @Option(names = "--exe", paramLabel = "PATH", description = "with --running-writer: the copy of examples' shop that the writer traces")
  Path exe;

  @Option(names = "--otlp-listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:4318",
      description = "with --running-writer: where the suite's OTLP/HTTP receiver listens for the writer's spans (default: ${DEFAULT-VALUE})")
  String otlpListen;

  @Option(names = "--require-profile", description = "exit 1 unless braid's profile passes too, not only the contract")
  boolean requireProfile;

  @Option(names = "--otlp-grpc-listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:4317",
      description = "with --running-writer: where the suite's OTLP/gRPC receiver listens (default: ${DEFAULT-VALUE})")
  String otlpGrpcListen;

  @Option(names = "--duration", paramLabel = "D", converter = Durations.class, description = "with --reference-writer: stop after this long (default: until stopped)")
  Duration duration;

  @Option(names = "--pin-path", paramLabel = "DIR", description = "bpffs directory the writer pins under (default: a fresh one under /sys/fs/bpf; /sys/fs/bpf for --reference-writer)")
  Path pinPath;

  @Option(names = "--cover-within", paramLabel = "D", converter = Durations.class, defaultValue = "60s",
      description = "how long the writer may take to cover a new process (pin, show a request) before a check fails (default: ${DEFAULT-VALUE})")
  java.time.Duration coverWithin;

  @Option(names = "--json", paramLabel = "FILE", description = "also write the report as JSON to FILE (with --reference-writer: the expected contexts)")
  Path json;

  @Option(names = "--examples", paramLabel = "DIR", description = "where the example Go programs are built (default: the ones braid came with)")
  Path examples;

  @Override
  public Integer call() throws Exception {
    if (subject.referenceWriter) {
      return referenceWriter();
    }
    Report report = subject.runningWriter ? judgeRunningWriter() : judgeStartedWriter();
    System.out.print(report.text());
    if (json != null) {
      Files.writeString(json, report.json() + "\n");
    }
    return report.conformant() && (report.profilePassed() || !requireProfile) ? 0 : 1;
  }

  private Report judgeStartedWriter() throws Exception {
    Path shop = example("shop");
    if (pinPath == null) {
      RuntimeGate.requireRunnable(TracesContextMap.DEFAULT_PIN_ROOT);
    }
    Path root = pinPath != null ? pinPath : Files.createTempDirectory(TracesContextMap.DEFAULT_PIN_ROOT, "braid-conformance-");
    try {
      RuntimeGate.requireRunnable(root);
      return new ConformanceSuite(shop, root, subject.writerCommand).withGrpc(example("grpcshop"), example("grpcload"))
          .withCoverWithin(coverWithin).withProgress(ConformanceCommand::progress).run();
    } finally {
      if (pinPath == null) {
        ConformanceSuite.removeTree(root); // the suite's own pin root, with the pin the writer left
      }
    }
  }

  private Report judgeRunningWriter() throws Exception {
    Path shop = ExamplePrograms.of(examples).dir().resolve("shop");
    if (exe == null) {
      throw new UsageException("--running-writer needs --exe: copy " + shop + " to where the running writer looks, and name that copy");
    }
    if (!Files.isExecutable(exe)) {
      throw new UsageException(exe + " is not an executable file: copy " + shop + " there");
    }
    Path root = pinPath != null ? pinPath : TracesContextMap.DEFAULT_PIN_ROOT;
    if (!Files.exists(TracesContextMap.pinPath(root))) {
      throw new UsageException("nothing is pinned at " + TracesContextMap.pinPath(root) + ": start the writer first, or give its --pin-path");
    }
    return ConformanceSuite.forRunningWriter(exe, root, HostPort.listenAddress(otlpListen), HostPort.listenAddress(otlpGrpcListen))
        .withCoverWithin(coverWithin).withProgress(ConformanceCommand::progress).run();
  }

  private static void progress(String step) {
    System.err.println("conformance: " + step + " ...");
  }

  private Path example(String name) {
    return ExamplePrograms.of(examples).binary(name);
  }

  /** Runs the reference writer on the pin (default /sys/fs/bpf) until stopped or for --duration. */
  private int referenceWriter() throws Exception {
    Path root = pinPath != null ? pinPath : TracesContextMap.DEFAULT_PIN_ROOT;
    RuntimeGate.requireRunnable(root);
    ReferenceWriter writer = RuntimeGate.starting(() -> {
      try {
        return ReferenceWriter.start(example("pinned"), root);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      writer.close();
      stopped.countDown();
    }, "reference-writer-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    System.out.println("reference writer: pid " + writer.pid() + ", pin " + TracesContextMap.pinPath(root));
    for (ReferenceWriter.Worker w : writer.workers()) {
      System.out.printf("  tid %-8d %-12s %s%n", w.tid(), w.function(), w.context().map(c -> c.traceId() + " " + c.spanId()).orElse("(no context)"));
    }
    System.out.println("a sample in main.workN must carry worker N's context, one in main.work4 none");
    if (json != null) {
      Files.writeString(json, writer.json() + "\n");
    }
    System.out.println("ready");
    System.out.flush();
    if (duration == null) {
      stopped.await();
    } else if (!stopped.await(duration.toMillis(), TimeUnit.MILLISECONDS)) {
      Runtime.getRuntime().removeShutdownHook(hook);
      writer.close();
    }
    return 0;
  }
}
