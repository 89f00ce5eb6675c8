package dev.braid.correlator.conformance;

import dev.braid.bpf.MonotonicClock;
import dev.braid.correlator.conformance.ExactnessAudit.Request;
import dev.braid.correlator.conformance.OtlpReceiver.ExportedSpan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Turns a writer's epoch timestamps into this host's CLOCK_MONOTONIC, fitted from the requests
 * themselves rather than from the suite's own reading of the wall clock. A writer turns its kernel
 * timestamps into epoch time with an offset of its own, measured when it chose; the wall clock may
 * drift from CLOCK_MONOTONIC meanwhile (measured on a CI host: 5 ms a second), so the suite's
 * offset, read seconds later, would shift every span by tens of milliseconds.
 *
 * <p>Each request's outermost exported span and its handler (from the service's truth log, in
 * CLOCK_MONOTONIC) bracket the same work, so their midpoints give one estimate of the writer's
 * offset at that time. A request's offset is the median of the estimates of the requests around
 * it: a writer with a fixed offset, one that follows the wall clock, and a few odd spans are all
 * fitted. A sample's verdict still rests on the map alone: the fit uses no sample.
 */
final class WriterClock {
  /** How many requests on each side of one give its offset. */
  private static final int NEIGHBOURS = 50;

  private final Map<Request, Long> offsetOfRequest = new HashMap<>();
  /** Offsets by the epoch midpoint of their request's outermost span, for spans of no request. */
  private final NavigableMap<Long, Long> offsetAt = new TreeMap<>();
  private final MonotonicClock suite;

  private WriterClock(MonotonicClock suite) {
    this.suite = suite;
  }

  /**
   * @param spansOf a request's exported spans (of its trace)
   * @param suite the suite's own offset, for a writer that exported no request's span
   */
  static WriterClock fit(List<Request> requests, Map<String, List<ExportedSpan>> spansOf, MonotonicClock suite) {
    record Estimate(Request request, long epochMidpoint, long offset) {}
    List<Estimate> estimates = new ArrayList<>();
    for (Request r : requests) {
      spansOf.getOrDefault(r.traceId(), List.of()).stream().max(Comparator.comparingLong(s -> s.endEpochNanos() - s.startEpochNanos())).ifPresent(outermost -> {
        long epochMidpoint = outermost.startEpochNanos() + (outermost.endEpochNanos() - outermost.startEpochNanos()) / 2;
        long handlerMidpoint = r.startNanos() + (r.endNanos() - r.startNanos()) / 2;
        estimates.add(new Estimate(r, epochMidpoint, epochMidpoint - handlerMidpoint));
      });
    }
    estimates.sort(Comparator.comparingLong(e -> e.request().startNanos()));
    WriterClock clock = new WriterClock(suite);
    for (int i = 0; i < estimates.size(); i++) {
      long[] around = estimates.subList(Math.max(0, i - NEIGHBOURS), Math.min(estimates.size(), i + NEIGHBOURS + 1)).stream().mapToLong(Estimate::offset).sorted().toArray();
      long offset = around[around.length / 2];
      clock.offsetOfRequest.put(estimates.get(i).request(), offset);
      clock.offsetAt.put(estimates.get(i).epochMidpoint(), offset);
    }
    return clock;
  }

  /** A span of this request's trace, in monotonic time. */
  long toMonotonicNanos(Request request, long epochNanos) {
    Long offset = offsetOfRequest.get(request);
    return offset != null ? epochNanos - offset : toMonotonicNanos(epochNanos);
  }

  /** A span of no request's trace, with the offset fitted nearest in time. */
  long toMonotonicNanos(long epochNanos) {
    Entry<Long, Long> below = offsetAt.floorEntry(epochNanos);
    Entry<Long, Long> above = offsetAt.ceilingEntry(epochNanos);
    Entry<Long, Long> nearest = below == null ? above : above == null || epochNanos - below.getKey() <= above.getKey() - epochNanos ? below : above;
    return nearest != null ? epochNanos - nearest.getValue() : suite.toMonotonicNanos(epochNanos);
  }

  /** How far the writer's timestamps were from the suite's wall clock, at the median request, in µs. */
  long medianSkewMicros() {
    long[] offsets = offsetOfRequest.values().stream().mapToLong(Long::longValue).sorted().toArray();
    return offsets.length == 0 ? 0 : (offsets[offsets.length / 2] - suite.toEpochNanos(0)) / 1000;
  }
}
