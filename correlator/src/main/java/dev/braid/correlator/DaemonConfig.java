package dev.braid.correlator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How the daemon runs.
 *
 * @param executable the Go binary whose processes are traced
 * @param outputDir where traces.jsonl and pprof/ go
 * @param sampleHz CPU samples per second per CPU
 * @param pinRoot the bpffs directory under which otel/traces_ctx_v1 is pinned
 * @param flushInterval how often spans and profiles are written
 * @param serviceName overrides {@code service.name} (OTEL_SERVICE_NAME), else the binary's name
 */
public record DaemonConfig(
    Path executable,
    Path outputDir,
    long sampleHz,
    Path pinRoot,
    Duration flushInterval,
    Optional<String> serviceName) {

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
  }
}
