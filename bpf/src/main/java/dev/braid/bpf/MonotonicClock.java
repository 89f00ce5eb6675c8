package dev.braid.bpf;

import java.time.Clock;
import java.time.Instant;

/**
 * Converts {@code bpf_ktime_get_ns()} (CLOCK_MONOTONIC) to Unix epoch nanoseconds. HotSpot's
 * {@link System#nanoTime()} reads the same clock on Linux, so the offset between the two clocks
 * is measured once, at the tightest of a few tries. Immutable; thread-safe.
 */
public final class MonotonicClock {
  private final long epochMinusMonotonic;

  private MonotonicClock(long epochMinusMonotonic) {
    this.epochMinusMonotonic = epochMinusMonotonic;
  }

  /** Measures the offset now. The wall clock may be stepped later; spans keep this offset. */
  public static MonotonicClock measure() {
    Clock clock = Clock.systemUTC();
    long best = 0;
    long bestWidth = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      long before = System.nanoTime();
      Instant now = clock.instant();
      long after = System.nanoTime();
      if (after - before < bestWidth) {
        bestWidth = after - before;
        long epoch = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        best = epoch - (before + (after - before) / 2);
      }
    }
    return new MonotonicClock(best);
  }

  public long toEpochNanos(long monotonicNanos) {
    return monotonicNanos + epochMinusMonotonic;
  }

  /** The monotonic time of an epoch instant, to compare with kernel timestamps. */
  public long toMonotonicNanos(long epochNanos) {
    return epochNanos - epochMinusMonotonic;
  }
}
