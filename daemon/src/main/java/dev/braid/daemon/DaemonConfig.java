package dev.braid.daemon;

import dev.braid.correlator.export.OtlpEndpoint;
import io.opentelemetry.api.common.Attributes;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How the daemon runs. Without an executable and pids, braid traces every Go process on the host.
 *
 * @param executable trace only the processes of this Go binary
 * @param pids trace only these processes (empty: all that match)
 * @param exclude leave alone the processes whose executable path or name matches
 * @param minProcessAge trace a process only once it has run this long (zero: at once); its probes
 *     are then its own, detached when it exits
 * @param outputDir where traces.jsonl, profiles.jsonl and pprof/ go
 * @param files whether those files are written (a host daemon that only exports writes none)
 * @param sampleHz CPU samples per second per CPU
 * @param pinRoot the bpffs directory under which otel/traces_ctx_v1 is pinned
 * @param flushInterval how often spans and profiles are written and exported
 * @param serviceName overrides {@code service.name} (OTEL_SERVICE_NAME), else the binary's name
 * @param resourceAttributes added to every traced process's resource, over what braid detects
 *     (OTEL_RESOURCE_ATTRIBUTES)
 * @param propagate add traceparent to the outgoing HTTP requests of client spans
 * @param channelLinks link the spans of goroutines that hand values over Go channels
 * @param autoSdk be the SDK of programs that use the OpenTelemetry API alone
 *     (go.opentelemetry.io/auto/sdk; turns on a switch in each, one byte written into it)
 * @param mode which of braid's parts run
 * @param contextSource how a sample finds its span
 * @param otlp where spans and profiles are exported, if anywhere
 * @param metricsAddress where the Prometheus endpoint listens, if anywhere
 * @param spanBuffer bytes of the ring buffer that carries span events from the probes to braid
 *     (--span-buffer): a power of two, at least a page
 */
public record DaemonConfig(
    Optional<Path> executable,
    Set<Integer> pids,
    Optional<Pattern> exclude,
    Duration minProcessAge,
    Path outputDir,
    boolean files,
    long sampleHz,
    Path pinRoot,
    Duration flushInterval,
    Optional<String> serviceName,
    Attributes resourceAttributes,
    boolean propagate,
    boolean channelLinks,
    boolean autoSdk,
    Mode mode,
    ContextSource contextSource,
    Optional<OtlpEndpoint> otlp,
    Optional<InetSocketAddress> metricsAddress,
    int spanBuffer) {

  public static final long DEFAULT_SAMPLE_HZ = 99;
  /** ~20k spans: 200 ms of 100k requests/s, twice the time braid takes to come back to it. */
  public static final int DEFAULT_SPAN_BUFFER = dev.braid.tracer.Tracer.DEFAULT_EVENT_BUFFER;
  public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(10);
  static final Duration DRAIN_INTERVAL = Duration.ofMillis(100);
  /**
   * A flush comes early once this many spans are ready: memory stays bounded at any request
   * rate, and an OTLP request stays well under a receiver's usual 4 MiB limit (~1 MiB).
   */
  public static final int MAX_BATCH_SPANS = 4096;
  static final Duration SCAN_INTERVAL = Duration.ofSeconds(1);

  /** Which of braid's parts run. */
  public enum Mode {
    /** Tracer, writer of traces_ctx_v1, sampler and correlator. */
    STANDALONE,
    /** Tracer and writer only, for an eBPF profiler that reads traces_ctx_v1. */
    WRITER,
    /** Sampler only, stamping samples from a traces_ctx_v1 that another writer fills. */
    READER;

    /** The name the command line uses. */
    public String option() {
      return name().toLowerCase(Locale.ROOT);
    }

    public boolean traces() {
      return this != READER;
    }

    public boolean samples() {
      return this != WRITER;
    }
  }

  /** How a sample finds its span. */
  public enum ContextSource {
    /** The thread's traces_ctx_v1 entry, which goroutine-switch probes keep exact. */
    SWITCH,
    /** The goroutine running at sample time (TLS g, m.curg, goid), looked up by the sampler. */
    SAMPLE;

    public String option() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public DaemonConfig {
    if (sampleHz <= 0 || sampleHz > 10_000) {
      throw new IllegalArgumentException("--sample-hz must be between 1 and 10000, not " + sampleHz);
    }
    if (flushInterval.isNegative() || flushInterval.isZero()) {
      throw new IllegalArgumentException("the flush interval must be positive");
    }
    if (mode == Mode.READER && contextSource == ContextSource.SAMPLE) {
      throw new IllegalArgumentException("--ctx-source sample needs braid's tracer; in reader mode samples take their context from traces_ctx_v1");
    }
    if (mode == Mode.WRITER && contextSource == ContextSource.SAMPLE) {
      throw new IllegalArgumentException("--ctx-source sample keeps no traces_ctx_v1 for another profiler; writer mode needs switch");
    }
    if (mode == Mode.READER && propagate) {
      throw new IllegalArgumentException("--propagate needs braid's tracer, which reader mode does not run");
    }
    if (mode != Mode.STANDALONE && autoSdk) {
      throw new IllegalArgumentException("--auto-sdk exports the program's spans and links its samples to them, which needs all of braid: drop --mode "
          + mode.name().toLowerCase(java.util.Locale.ROOT));
    }
    if (executable.isPresent() && exclude.isPresent()) {
      throw new IllegalArgumentException("--exclude narrows the whole host's processes, but --exe traces only " + executable.get() + ": drop one of them");
    }
    if (minProcessAge.isNegative()) {
      throw new IllegalArgumentException("--min-process-age cannot be negative");
    }
    if (mode == Mode.READER && !minProcessAge.isZero()) {
      throw new IllegalArgumentException("--min-process-age delays braid's tracer, which reader mode does not run");
    }
    if (spanBuffer < 4096 || Integer.bitCount(spanBuffer) != 1) {
      throw new IllegalArgumentException("--span-buffer must be a power of two from 4K up (4K, 64K, 8M, 64M), not " + spanBuffer + " bytes");
    }
    pids = Set.copyOf(pids);
  }

  /** Whether each process gets probes of its own (--pid, --min-process-age), not one set for all of a binary's. */
  boolean probesPerProcess() {
    return !pids.isEmpty() || !minProcessAge.isZero();
  }

  /** The processes of one executable, with defaults for the rest. */
  public static DaemonConfig forExecutable(Path executable, Path outputDir, Path pinRoot) {
    return new Builder(outputDir, pinRoot).executable(Optional.of(executable)).build();
  }

  /** Every Go process of the host, with defaults for the rest. */
  public static DaemonConfig wholeHost(Path outputDir, Path pinRoot) {
    return new Builder(outputDir, pinRoot).build();
  }

  public static Builder builder(Path outputDir, Path pinRoot) {
    return new Builder(outputDir, pinRoot);
  }

  public Builder toBuilder() {
    Builder b = new Builder(outputDir, pinRoot);
    b.executable = executable;
    b.pids = pids;
    b.exclude = exclude;
    b.minProcessAge = minProcessAge;
    b.sampleHz = sampleHz;
    b.flushInterval = flushInterval;
    b.serviceName = serviceName;
    b.resourceAttributes = resourceAttributes;
    b.files = files;
    b.propagate = propagate;
    b.channelLinks = channelLinks;
    b.autoSdk = autoSdk;
    b.mode = mode;
    b.contextSource = contextSource;
    b.otlp = otlp;
    b.metricsAddress = metricsAddress;
    b.spanBuffer = spanBuffer;
    return b;
  }

  public DaemonConfig withSampleHz(long hz) {
    return toBuilder().sampleHz(hz).build();
  }

  public DaemonConfig withFlushInterval(Duration d) {
    return toBuilder().flushInterval(d).build();
  }

  public DaemonConfig withPids(Set<Integer> only) {
    return toBuilder().pids(only).build();
  }

  public DaemonConfig withExclude(Pattern pattern) {
    return toBuilder().exclude(Optional.of(pattern)).build();
  }

  public DaemonConfig withServiceName(Optional<String> name) {
    return toBuilder().serviceName(name).build();
  }

  public DaemonConfig withPropagation(boolean on) {
    return toBuilder().propagate(on).build();
  }

  public DaemonConfig withChannelLinks(boolean on) {
    return toBuilder().channelLinks(on).build();
  }

  public DaemonConfig withAutoSdk(boolean on) {
    return toBuilder().autoSdk(on).build();
  }

  public DaemonConfig withMode(Mode m) {
    return toBuilder().mode(m).build();
  }

  public DaemonConfig withContextSource(ContextSource source) {
    return toBuilder().contextSource(source).build();
  }

  public DaemonConfig withOtlp(Optional<OtlpEndpoint> endpoint) {
    return toBuilder().otlp(endpoint).build();
  }

  public DaemonConfig withMetricsAddress(Optional<InetSocketAddress> address) {
    return toBuilder().metricsAddress(address).build();
  }

  /** Builds a config; what is not set keeps braid's default. */
  public static final class Builder {
    private final Path outputDir;
    private final Path pinRoot;
    private Optional<Path> executable = Optional.empty();
    private Set<Integer> pids = Set.of();
    private Optional<Pattern> exclude = Optional.empty();
    private Duration minProcessAge = Duration.ZERO;
    private long sampleHz = DEFAULT_SAMPLE_HZ;
    private Duration flushInterval = DEFAULT_FLUSH_INTERVAL;
    private Optional<String> serviceName = Optional.empty();
    private Attributes resourceAttributes = Attributes.empty();
    private boolean files = true;
    private boolean propagate;
    private boolean channelLinks = true;
    private boolean autoSdk;
    private Mode mode = Mode.STANDALONE;
    private ContextSource contextSource = ContextSource.SWITCH;
    private Optional<OtlpEndpoint> otlp = Optional.empty();
    private Optional<InetSocketAddress> metricsAddress = Optional.empty();
    private int spanBuffer = DEFAULT_SPAN_BUFFER;

    private Builder(Path outputDir, Path pinRoot) {
      this.outputDir = outputDir;
      this.pinRoot = pinRoot;
    }

    public Builder executable(Optional<Path> v) {
      executable = v;
      return this;
    }

    public Builder pids(Set<Integer> v) {
      pids = v;
      return this;
    }

    public Builder exclude(Optional<Pattern> v) {
      exclude = v;
      return this;
    }

    public Builder minProcessAge(Duration v) {
      minProcessAge = v;
      return this;
    }

    public Builder sampleHz(long v) {
      sampleHz = v;
      return this;
    }

    public Builder flushInterval(Duration v) {
      flushInterval = v;
      return this;
    }

    public Builder files(boolean v) {
      files = v;
      return this;
    }

    public Builder resourceAttributes(Attributes v) {
      resourceAttributes = v;
      return this;
    }

    public Builder serviceName(Optional<String> v) {
      serviceName = v;
      return this;
    }

    public Builder propagate(boolean v) {
      propagate = v;
      return this;
    }

    public Builder channelLinks(boolean v) {
      channelLinks = v;
      return this;
    }

    public Builder autoSdk(boolean v) {
      autoSdk = v;
      return this;
    }

    public Builder mode(Mode v) {
      mode = v;
      return this;
    }

    public Builder contextSource(ContextSource v) {
      contextSource = v;
      return this;
    }

    public Builder otlp(Optional<OtlpEndpoint> v) {
      otlp = v;
      return this;
    }

    public Builder metricsAddress(Optional<InetSocketAddress> v) {
      metricsAddress = v;
      return this;
    }

    public Builder spanBuffer(int bytes) {
      spanBuffer = bytes;
      return this;
    }

    public DaemonConfig build() {
      return new DaemonConfig(
          executable, pids, exclude, minProcessAge, outputDir, files, sampleHz, pinRoot, flushInterval, serviceName, resourceAttributes, propagate, channelLinks, autoSdk, mode, contextSource, otlp,
          metricsAddress, spanBuffer);
    }
  }
}
