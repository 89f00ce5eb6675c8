package dev.braid.correlator;

import io.opentelemetry.proto.trace.v1.ResourceSpans;
import java.util.List;

/**
 * What one flush hands to the outputs: the spans that completed and the samples that could be
 * correlated since the last flush.
 *
 * @param applicationSpans --auto-sdk: the spans that programs using the OpenTelemetry API alone
 *     ended, as OTLP (braid made them; the program set their content)
 * @param startEpochNanos the window's start
 * @param endEpochNanos the window's end
 * @param last whether this is the final flush (braid is stopping)
 */
public record Batch(
    long startEpochNanos, long endEpochNanos, List<CompletedSpan> spans, List<ResourceSpans> applicationSpans, List<ProfiledSample> samples, boolean last) {
  public Batch {
    spans = List.copyOf(spans);
    applicationSpans = List.copyOf(applicationSpans);
    samples = List.copyOf(samples);
  }

  /** A batch without application spans. */
  public Batch(long startEpochNanos, long endEpochNanos, List<CompletedSpan> spans, List<ProfiledSample> samples, boolean last) {
    this(startEpochNanos, endEpochNanos, spans, List.of(), samples, last);
  }
}
