package dev.braid.bpf;

import java.time.Clock;
import java.time.Instant;

/**
 * Converts {@code bpf_ktime_get_ns()} (CLOCK_MONOTONIC) to Unix epoch nanoseconds. HotSpot's
 * {@link System#nanoTime()} reads the same clock on Linux, so the offset between the two clocks
 * is measured at the tightest of a few tries. The wall clock drifts from CLOCK_MONOTONIC (NTP
 * slews it; one CI host measured 5 ms a second) and may be stepped: a daemon that runs for weeks
 * uses {@link #followingWallClock()}, which measures the offset again every 100 ms. Thread-safe.
 */
public final class MonotonicClock {
  private static final long REMEASURE_NANOS = 100_000_000L;

  private record Offset(long measuredAt, long epochMinusMonotonic) {}

  private final boolean follows;
  private volatile Offset offset;

  private MonotonicClock(boolean follows) {
    this.follows = follows;
    this.offset = measureNow();
  }

  /** The offset measured once, now: conversions of the same instant always agree. */
  public static MonotonicClock measure() {
    return new MonotonicClock(false);
  }

  /** The offset measured again when a conversion is 100 ms past the last measurement. */
  public static MonotonicClock followingWallClock() {
    return new MonotonicClock(true);
  }

  private static Offset measureNow() {
    Clock clock = Clock.systemUTC();
    long best = 0;
    long at = 0;
    long bestWidth = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      long before = System.nanoTime();
      Instant now = clock.instant();
      long after = System.nanoTime();
      if (after - before < bestWidth) {
        bestWidth = after - before;
        at = before + (after - before) / 2;
        best = now.getEpochSecond() * 1_000_000_000L + now.getNano() - at;
      }
    }
    return new Offset(at, best);
  }

  public long toEpochNanos(long monotonicNanos) {
    Offset current = offset;
    if (follows && monotonicNanos - current.measuredAt() > REMEASURE_NANOS) {
      current = measureNow();
      offset = current;
    }
    return monotonicNanos + current.epochMinusMonotonic();
  }

  /** The monotonic time of an epoch instant, to compare with kernel timestamps. */
  public long toMonotonicNanos(long epochNanos) {
    return epochNanos - offset.epochMinusMonotonic();
  }
}
