package dev.braid.correlator.cli;

import dev.braid.correlator.Daemon;
import dev.braid.correlator.DaemonConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "run",
    description = {
      "Traces and profiles Go processes until --duration or SIGINT/SIGTERM: every Go process on the host,",
      "or those of --exe, or the --pid ones. New ones are picked up within a second.",
      "Writes DIR/traces.jsonl (OTLP/JSON) and DIR/pprof/*.pb.gz; prints 'ready' once every probe is attached."
    })
final class RunCommand implements Callable<Integer> {
  @Option(names = "--exe", paramLabel = "PATH", description = "trace only the processes of this Go executable")
  Path exe;

  @Option(names = "--pid", paramLabel = "PID", split = ",", description = "trace only these processes (repeat or comma-separate)")
  Set<Integer> pids = new java.util.HashSet<>();

  @Option(names = "--exclude", paramLabel = "REGEX", description = "leave alone processes whose executable path or name matches")
  Pattern exclude;

  @Option(names = "--propagate", description = "add a traceparent header to outgoing HTTP/1.1 requests of client spans (see README: it changes the bytes sent)")
  boolean propagate;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "braid-out", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--duration", paramLabel = "D", converter = Durations.class, description = "stop after this long (30s, 5m); default: run until stopped")
  Duration duration;

  @Option(names = "--sample-hz", paramLabel = "HZ", defaultValue = "99", description = "CPU samples per second on each CPU (default: ${DEFAULT-VALUE})")
  long sampleHz;

  @Option(names = "--pin-path", paramLabel = "DIR", defaultValue = "/sys/fs/bpf", description = "bpffs directory; the map is pinned at DIR/otel/traces_ctx_v1 (default: ${DEFAULT-VALUE})")
  Path pinPath;

  @Option(names = "--flush-interval", paramLabel = "D", converter = Durations.class, defaultValue = "10s", description = "how often spans and profiles are written (default: ${DEFAULT-VALUE})")
  Duration flushInterval;

  @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info", description = "error, warn, info or debug (default: ${DEFAULT-VALUE})")
  String logLevel;

  @Override
  public Integer call() throws InterruptedException {
    BraidCli.configureLogging(logLevel);
    DaemonConfig config =
        RuntimeGate.starting(
            () ->
                new DaemonConfig(
                    Optional.ofNullable(exe),
                    pids,
                    Optional.ofNullable(exclude),
                    out,
                    sampleHz,
                    pinPath,
                    flushInterval,
                    Optional.ofNullable(System.getenv("OTEL_SERVICE_NAME")).filter(s -> !s.isBlank()),
                    propagate));
    RuntimeGate.requireRunnable(pinPath);
    Daemon daemon = RuntimeGate.starting(() -> Daemon.start(config, batch -> {}));
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              daemon.close();
              stopped.countDown();
            },
            "braid-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    System.out.println("ready");
    System.out.flush();
    if (duration != null) {
      if (!stopped.await(duration.toMillis(), TimeUnit.MILLISECONDS)) {
        daemon.close();
      }
    } else {
      stopped.await();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook is closing the daemon
    }
    return 0;
  }
}
