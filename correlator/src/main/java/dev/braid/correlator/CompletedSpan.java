package dev.braid.correlator;

import dev.braid.bpf.TraceContext;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.data.StatusData;

/**
 * A span whose start and end the probes saw (or whose end braid had to supply: see {@code
 * attributes}' {@code braid.span.end_reason}).
 *
 * @param parentSpanId the parent's span id in hex, or empty for a root span
 * @param route {@code http.route} when known, else empty
 * @param startTid the thread the span started on (its goroutine may run on others later)
 */
public record CompletedSpan(
    ProcessInfo process,
    TraceContext context,
    String parentSpanId,
    int traceFlags,
    SpanKind kind,
    String name,
    String route,
    long startEpochNanos,
    long endEpochNanos,
    Attributes attributes,
    StatusData status,
    int startTid) {}
