package dev.braid.correlator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How the daemon runs. Without an executable and pids, braid traces every Go process on the host.
 *
 * @param executable trace only the processes of this Go binary
 * @param pids trace only these processes (empty: all that match)
 * @param exclude leave alone the processes whose executable path or name matches
 * @param outputDir where traces.jsonl and pprof/ go
 * @param sampleHz CPU samples per second per CPU
 * @param pinRoot the bpffs directory under which otel/traces_ctx_v1 is pinned
 * @param flushInterval how often spans and profiles are written
 * @param serviceName overrides {@code service.name} (OTEL_SERVICE_NAME), else the binary's name
 * @param propagate add traceparent to the outgoing HTTP requests of client spans
 */
public record DaemonConfig(
    Optional<Path> executable,
    Set<Integer> pids,
    Optional<Pattern> exclude,
    Path outputDir,
    long sampleHz,
    Path pinRoot,
    Duration flushInterval,
    Optional<String> serviceName,
    boolean propagate) {

  public static final long DEFAULT_SAMPLE_HZ = 99;
  public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(10);
  static final Duration DRAIN_INTERVAL = Duration.ofMillis(100);
  static final Duration SCAN_INTERVAL = Duration.ofSeconds(1);

  public DaemonConfig {
    if (sampleHz <= 0 || sampleHz > 10_000) {
      throw new IllegalArgumentException("--sample-hz must be between 1 and 10000, not " + sampleHz);
    }
    if (flushInterval.isNegative() || flushInterval.isZero()) {
      throw new IllegalArgumentException("the flush interval must be positive");
    }
    pids = Set.copyOf(pids);
  }

  /** The processes of one executable, with defaults for the rest. */
  public static DaemonConfig forExecutable(Path executable, Path outputDir, Path pinRoot) {
    return new DaemonConfig(
        Optional.of(executable), Set.of(), Optional.empty(), outputDir, DEFAULT_SAMPLE_HZ, pinRoot, DEFAULT_FLUSH_INTERVAL, Optional.empty(), false);
  }

  /** Every Go process of the host, with defaults for the rest. */
  public static DaemonConfig wholeHost(Path outputDir, Path pinRoot) {
    return new DaemonConfig(
        Optional.empty(), Set.of(), Optional.empty(), outputDir, DEFAULT_SAMPLE_HZ, pinRoot, DEFAULT_FLUSH_INTERVAL, Optional.empty(), false);
  }

  public DaemonConfig withSampleHz(long hz) {
    return new DaemonConfig(executable, pids, exclude, outputDir, hz, pinRoot, flushInterval, serviceName, propagate);
  }

  public DaemonConfig withFlushInterval(Duration d) {
    return new DaemonConfig(executable, pids, exclude, outputDir, sampleHz, pinRoot, d, serviceName, propagate);
  }

  public DaemonConfig withPids(Set<Integer> only) {
    return new DaemonConfig(executable, only, exclude, outputDir, sampleHz, pinRoot, flushInterval, serviceName, propagate);
  }

  public DaemonConfig withExclude(Pattern pattern) {
    return new DaemonConfig(executable, pids, Optional.of(pattern), outputDir, sampleHz, pinRoot, flushInterval, serviceName, propagate);
  }

  public DaemonConfig withServiceName(Optional<String> name) {
    return new DaemonConfig(executable, pids, exclude, outputDir, sampleHz, pinRoot, flushInterval, name, propagate);
  }

  public DaemonConfig withPropagation(boolean on) {
    return new DaemonConfig(executable, pids, exclude, outputDir, sampleHz, pinRoot, flushInterval, serviceName, on);
  }
}
