package dev.braid.correlator;

import java.util.List;

/**
 * What one flush hands to the outputs: the spans that completed and the samples that could be
 * correlated since the last flush.
 *
 * @param startEpochNanos the window's start
 * @param endEpochNanos the window's end
 * @param last whether this is the final flush (braid is stopping)
 */
public record Batch(long startEpochNanos, long endEpochNanos, List<CompletedSpan> spans, List<ProfiledSample> samples, boolean last) {
  public Batch {
    spans = List.copyOf(spans);
    samples = List.copyOf(samples);
  }
}
