package dev.braid.correlator;

import dev.braid.bpf.TraceContext;
import dev.braid.profiler.Location;
import java.util.List;
import java.util.Optional;

/**
 * A symbolized CPU sample with what it was correlated to.
 *
 * @param context the thread's traces_ctx_v1 entry at sample time
 * @param span the span that entry names, when braid saw it (it may come from another writer)
 * @param stack leaf first
 */
public record ProfiledSample(
    ProcessInfo process,
    int tid,
    long epochNanos,
    Optional<TraceContext> context,
    Optional<CompletedSpan> span,
    List<Location> stack) {

  /** The pprof labels of this sample: trace_id and span_id, and span_name when the span is known. */
  public java.util.Map<String, String> labels() {
    if (context.isEmpty()) {
      return java.util.Map.of();
    }
    if (span.isEmpty()) {
      return java.util.Map.of("trace_id", context.get().traceId(), "span_id", context.get().spanId());
    }
    return java.util.Map.of(
        "trace_id", context.get().traceId(), "span_id", context.get().spanId(), "span_name", span.get().name());
  }
}
