package dev.braid.daemon.cli;

import dev.braid.daemon.Daemon;
import dev.braid.daemon.DaemonConfig;
import dev.braid.correlator.HostPort;
import dev.braid.correlator.export.OtlpEndpoint;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.autoconfigure.ResourceConfiguration;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
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
      "Writes DIR/traces.jsonl and DIR/profiles.jsonl (OTLP/JSON) and DIR/pprof/*.pb.gz, and exports both signals",
      "over OTLP when an endpoint is set; prints 'ready' once every probe is attached."
    })
final class RunCommand implements Callable<Integer> {
  private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");

  @Option(names = "--exe", paramLabel = "PATH", description = "trace only the processes of this Go executable")
  Path exe;

  @Option(names = "--pid", paramLabel = "PID", split = ",", description = "trace only these processes (repeat or comma-separate)")
  Set<Integer> pids = new java.util.HashSet<>();

  @Option(names = "--exclude", paramLabel = "REGEX", description = "leave alone processes whose executable path or name matches")
  Pattern exclude;

  @Option(names = "--min-process-age", paramLabel = "D", converter = Durations.class, defaultValue = "0s",
      description = "trace a process only once it has run this long (5s): short-lived ones (builds, CLIs) are left alone; each gets probes of its own")
  Duration minProcessAge;

  @Option(names = "--propagate", description = "add a traceparent header to outgoing HTTP/1.1 requests of client spans (see README: it changes the bytes sent)")
  boolean propagate;

  @Option(
      names = "--auto-sdk",
      description = "be the OpenTelemetry SDK of Go programs that use the OpenTelemetry API without one: braid exports their spans and links"
          + " samples to them (see README: it turns on a switch in those programs, one byte written into each)")
  boolean autoSdk;

  @Option(
      names = "--channel-links",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = "link the spans of goroutines that hand values over Go channels (default: on; --no-channel-links saves the channel probes)")
  boolean channelLinks;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "braid-out", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(
      names = "--no-files",
      description = "write no files, only export (a host daemon that runs for weeks); needs an OTLP endpoint")
  boolean noFiles;

  @Option(names = "--duration", paramLabel = "D", converter = Durations.class, description = "stop after this long (30s, 5m); default: run until stopped")
  Duration duration;

  @Option(names = "--sample-hz", paramLabel = "HZ", defaultValue = "99", description = "CPU samples per second on each CPU (default: ${DEFAULT-VALUE})")
  long sampleHz;

  @Option(names = "--pin-path", paramLabel = "DIR", defaultValue = "/sys/fs/bpf", description = "bpffs directory; the map is pinned at DIR/otel/traces_ctx_v1 (default: ${DEFAULT-VALUE})")
  Path pinPath;

  @Option(names = "--flush-interval", paramLabel = "D", converter = Durations.class, defaultValue = "10s", description = "how often spans and profiles are written (default: ${DEFAULT-VALUE})")
  Duration flushInterval;

  @Option(
      names = "--mode",
      paramLabel = "MODE",
      defaultValue = "standalone",
      description = {
        "standalone: trace, write traces_ctx_v1 and sample; writer: trace and write traces_ctx_v1 for another",
        "eBPF profiler, no sampling; reader: only sample, stamping samples from a traces_ctx_v1 another writer fills",
        "(default: ${DEFAULT-VALUE})"
      })
  DaemonConfig.Mode mode;

  @Option(
      names = "--ctx-source",
      paramLabel = "SOURCE",
      defaultValue = "switch",
      description = {
        "switch: samples read traces_ctx_v1, kept exact by goroutine-switch probes; sample: the sampler finds the",
        "goroutine running at sample time and its span, without switch probes (no traces_ctx_v1 for others)",
        "(default: ${DEFAULT-VALUE})"
      })
  DaemonConfig.ContextSource contextSource;

  @Option(names = "--otlp-endpoint", paramLabel = "URL", description = "export spans and profiles over OTLP to this collector (default: OTEL_EXPORTER_OTLP_ENDPOINT; none: files only)")
  String otlpEndpoint;

  @Option(names = "--otlp-protocol", paramLabel = "P", description = "grpc or http/protobuf (default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)")
  String otlpProtocol;

  @Option(
      names = "--otlp-queue",
      paramLabel = "N",
      defaultValue = "64",
      description = "export requests per signal held while the collector is down or slow; the oldest is dropped and counted beyond (default: ${DEFAULT-VALUE})")
  int otlpQueue;

  @Option(
      names = "--span-buffer",
      paramLabel = "SIZE",
      converter = ByteSizes.class,
      defaultValue = "16M",
      description = "ring buffer between the probes and braid, a power of two (64K, 8M, 64M); raise it when braid reports span events lost (default: ${DEFAULT-VALUE})")
  int spanBuffer;

  @Option(names = "--metrics-addr", paramLabel = "HOST:PORT", description = "serve Prometheus metrics at http://HOST:PORT/metrics")
  String metricsAddress;

  @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info", description = "error, warn, info or debug (default: ${DEFAULT-VALUE})")
  String logLevel;

  @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "logfmt", description = "logfmt or json, one record per line on stderr (default: ${DEFAULT-VALUE})")
  String logFormat;

  /**
   * OTEL_RESOURCE_ATTRIBUTES (and OTEL_SERVICE_NAME), parsed as the OpenTelemetry SDKs parse them
   * (percent-decoded values); a blank service name is none.
   */
  private static Attributes environmentResource() {
    try {
      Attributes env = ResourceConfiguration.createEnvironmentResource().getAttributes();
      String service = env.get(SERVICE_NAME);
      return service != null && service.isBlank() ? env.toBuilder().remove(SERVICE_NAME).build() : env;
    } catch (ConfigurationException e) {
      throw new UsageException("OTEL_RESOURCE_ATTRIBUTES: " + e.getMessage() + " (expected key=value,key=value, values percent-encoded)", e);
    }
  }

  @Override
  public Integer call() throws InterruptedException {
    RuntimeGate.starting(() -> {
      BraidCli.configureLogging(logLevel, logFormat);
      return null;
    });
    DaemonConfig config =
        RuntimeGate.starting(
            () ->
                DaemonConfig.builder(out, pinPath)
                    .executable(Optional.ofNullable(exe))
                    .pids(pids)
                    .exclude(Optional.ofNullable(exclude))
                    .minProcessAge(minProcessAge)
                    .sampleHz(sampleHz)
                    .flushInterval(flushInterval)
                    .serviceName(Optional.ofNullable(System.getenv("OTEL_SERVICE_NAME")).filter(s -> !s.isBlank()))
                    .resourceAttributes(environmentResource())
                    .propagate(propagate)
                    .channelLinks(channelLinks)
                    .autoSdk(autoSdk)
                    .mode(mode)
                    .contextSource(contextSource)
                    .otlp(
                        OtlpEndpoint.configure(Optional.ofNullable(otlpEndpoint), Optional.ofNullable(otlpProtocol), System.getenv())
                            .map(e -> e.withQueueRequests(otlpQueue)))
                    .metricsAddress(Optional.ofNullable(metricsAddress).map(HostPort::listenAddress))
                    .files(!noFiles)
                    .spanBuffer(spanBuffer)
                    .build());
    if (noFiles && config.otlp().isEmpty()) {
      throw new UsageException("--no-files keeps nothing without an OTLP endpoint: add --otlp-endpoint URL (or set OTEL_EXPORTER_OTLP_ENDPOINT)");
    }
    RuntimeGate.requireRunnable(pinPath);
    Daemon daemon = RuntimeGate.starting(() -> Daemon.start(config, batch -> {}));
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              daemon.close();
              if (!noFiles) {
                ReportCommand.afterRun(out); // stopped by a signal, as a run usually is
              }
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
      return 0; // already shutting down (a signal): the hook closed the daemon and wrote the report
    }
    if (!noFiles) {
      ReportCommand.afterRun(out);
    }
    return 0;
  }
}
