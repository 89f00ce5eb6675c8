package dev.braid.conformance;

import dev.braid.bpf.MonotonicClock;
import dev.braid.conformance.ExactnessAudit.Request;
import dev.braid.conformance.OtlpReceiver.ExportedSpan;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import java.util.ArrayList;
import java.util.Comparator;
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
 * <p>Each request's server span (else its longest) and its handler (from the service's truth log, in
 * CLOCK_MONOTONIC) bracket the same work, so their midpoints give one estimate of the writer's
 * offset at that time. The offset there is the median of the estimates of the requests around it,
 * and between two such points it is interpolated: a writer with a fixed offset, one that follows
 * the wall clock, and a few odd spans are all fitted. A sample's verdict still rests on the map alone: the fit uses no sample.
 */
final class WriterClock {
  /** How many requests on each side of one give its offset. */
  private static final int NEIGHBOURS = 50;

  /** The fitted offsets, by the epoch midpoint of the span each was fitted at. */
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
      // The server span when there is one, else the longest; a span without both ends says nothing.
      spansOf.getOrDefault(r.traceId(), List.of()).stream().filter(s -> s.startEpochNanos() > 0 && s.endEpochNanos() >= s.startEpochNanos())
          .max(Comparator.comparing((ExportedSpan s) -> s.kind() == SpanKind.SPAN_KIND_SERVER).thenComparingLong(s -> s.endEpochNanos() - s.startEpochNanos()))
          .ifPresent(outermost -> {
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
      clock.offsetAt.put(estimates.get(i).epochMidpoint(), offset);
    }
    return clock;
  }

  /**
   * An epoch timestamp of the writer's, in monotonic time: the offset is interpolated between the
   * fits on either side, so that a writer that reads the wall clock at each timestamp (as Go's SDK
   * does) keeps its spans' lengths (a 400 ms span grows 2 ms when the wall clock drifts 5 ms a second).
   */
  long toMonotonicNanos(long epochNanos) {
    Entry<Long, Long> below = offsetAt.floorEntry(epochNanos);
    Entry<Long, Long> above = offsetAt.ceilingEntry(epochNanos);
    if (below == null && above == null) {
      return suite.toMonotonicNanos(epochNanos);
    }
    if (below == null || above == null || above.getKey().equals(below.getKey())) {
      return epochNanos - (below != null ? below : above).getValue();
    }
    double along = (double) (epochNanos - below.getKey()) / (above.getKey() - below.getKey());
    return epochNanos - below.getValue() - Math.round(along * (above.getValue() - below.getValue()));
  }

  /** How far the writer's timestamps were from the suite's wall clock, at the median request, in µs. */
  long medianSkewMicros() {
    long[] offsets = offsetAt.values().stream().mapToLong(Long::longValue).sorted().toArray();
    return offsets.length == 0 ? 0 : (offsets[offsets.length / 2] - suite.toEpochNanos(0)) / 1000;
  }
}
