package dev.braid.profiler;

import dev.braid.bpf.testing.Wait;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * Sampling for as long as a test needs, not for a fixed time: how many samples land where depends
 * on the CPU, the kernel's timer and whatever else the machine runs, so tests wait for the samples
 * they need, with a bound.
 */
final class Sampling {
  /** The longest any test samples before it gives up. */
  static final Duration LIMIT = Duration.ofSeconds(60);

  private Sampling() {}

  /**
   * Drains {@code sampler} (whose listener adds to {@code samples}) every 100 ms until {@code
   * enough} holds of what came so far, or {@link #LIMIT} passed; whether it held.
   */
  static boolean until(Sampler sampler, List<StackSample> samples, Predicate<List<StackSample>> enough) {
    return Wait.until(LIMIT, Duration.ofMillis(100), () -> {
      sampler.drain();
      return enough.test(samples);
    });
  }
}
