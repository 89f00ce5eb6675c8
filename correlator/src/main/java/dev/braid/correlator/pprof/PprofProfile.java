package dev.braid.correlator.pprof;

import dev.braid.profiler.Location;
import java.util.List;
import java.util.Map;

/**
 * What goes into one pprof file: CPU samples of one process over one window.
 *
 * @param startEpochNanos when the window began
 * @param durationNanos how long it lasted
 * @param periodNanos CPU time one sample stands for (1 s / sampling frequency)
 * @param samples the samples; equal stacks with equal labels are merged when written
 */
public record PprofProfile(long startEpochNanos, long durationNanos, long periodNanos, List<Sample> samples) {
  public PprofProfile {
    samples = List.copyOf(samples);
  }

  /**
   * One sample.
   *
   * @param stack leaf first
   * @param labels string labels (trace_id, span_id, span_name)
   */
  public record Sample(List<Location> stack, Map<String, String> labels) {
    public Sample {
      stack = List.copyOf(stack);
      labels = Map.copyOf(labels);
    }
  }
}
