package dev.braid.correlator.otlp;

import com.google.protobuf.ByteString;
import dev.braid.correlator.CompletedSpan;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.ProcessInfo;
import dev.braid.correlator.SpanLink;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Spans as an OTLP {@code ExportTraceServiceRequest}, for export over the wire: the same content
 * as a line of {@link TraceFile}, grouped by process.
 */
public final class SpansEncoder {
  private SpansEncoder() {}

  public static ExportTraceServiceRequest encode(List<CompletedSpan> spans) {
    Map<ProcessInfo, List<Span>> byProcess = new LinkedHashMap<>();
    for (CompletedSpan s : spans) {
      byProcess.computeIfAbsent(s.process(), p -> new ArrayList<>()).add(span(s));
    }
    ExportTraceServiceRequest.Builder request = ExportTraceServiceRequest.newBuilder();
    byProcess.forEach(
        (process, list) ->
            request.addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(OtlpAttributes.resource(process.resource()))
                    .addScopeSpans(ScopeSpans.newBuilder().setScope(OtlpAttributes.scope(TraceFile.SCOPE_NAME)).addAllSpans(list))));
    return request.build();
  }

  private static Span span(CompletedSpan s) {
    Span.Builder b =
        Span.newBuilder()
            .setTraceId(traceId(s.context()))
            .setSpanId(spanId(s.context()))
            .setFlags(TraceFile.flags(s))
            .setName(s.name())
            .setKindValue(TraceFile.kind(s.kind()))
            .setStartTimeUnixNano(s.startEpochNanos())
            .setEndTimeUnixNano(s.endEpochNanos());
    if (!s.parentSpanId().isEmpty()) {
      b.setParentSpanId(ByteString.copyFrom(HexFormat.of().parseHex(s.parentSpanId())));
    }
    s.visitAttributes(new KeyValues(b::addAttributes));
    for (SpanLink link : s.links()) {
      Span.Link.Builder l =
          Span.Link.newBuilder()
              .setTraceId(traceId(link.to()))
              .setSpanId(spanId(link.to()))
              .setFlags(TraceFile.LINK_FLAGS);
      link.visitAttributes(new KeyValues(l::addAttributes));
      b.addLinks(l);
    }
    b.setDroppedLinksCount(s.droppedLinks());
    StatusData status = s.status();
    if (status.getStatusCode() == StatusCode.ERROR) {
      b.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR).setMessage(status.getDescription()));
    }
    return b.build();
  }

  static ByteString traceId(TraceContext c) {
    return ByteString.copyFrom(ByteBuffer.allocate(16).putLong(c.traceHigh()).putLong(c.traceLow()).array());
  }

  static ByteString spanId(TraceContext c) {
    return ByteString.copyFrom(ByteBuffer.allocate(8).putLong(c.span()).array());
  }

  /** Hands each attribute on as an OTLP KeyValue. */
  private record KeyValues(Consumer<KeyValue> out) implements CompletedSpan.AttributeVisitor {
    @Override
    public void string(AttributeKey<String> key, String value) {
      out.accept(KeyValue.newBuilder().setKey(key.getKey()).setValue(AnyValue.newBuilder().setStringValue(value)).build());
    }

    @Override
    public void number(AttributeKey<Long> key, long value) {
      out.accept(KeyValue.newBuilder().setKey(key.getKey()).setValue(AnyValue.newBuilder().setIntValue(value)).build());
    }

    @Override
    public void flag(AttributeKey<Boolean> key, boolean value) {
      out.accept(KeyValue.newBuilder().setKey(key.getKey()).setValue(AnyValue.newBuilder().setBoolValue(value)).build());
    }
  }
}
