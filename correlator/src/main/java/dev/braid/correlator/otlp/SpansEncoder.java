package dev.braid.correlator.otlp;

import com.google.protobuf.ByteString;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProcessInfo;
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
            .setTraceId(ByteString.copyFrom(ByteBuffer.allocate(16).putLong(s.context().traceHigh()).putLong(s.context().traceLow()).array()))
            .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(s.context().span()).array()))
            .setFlags(TraceFile.flags(s))
            .setName(s.name())
            .setKindValue(TraceFile.kind(s.kind()))
            .setStartTimeUnixNano(s.startEpochNanos())
            .setEndTimeUnixNano(s.endEpochNanos());
    if (!s.parentSpanId().isEmpty()) {
      b.setParentSpanId(ByteString.copyFrom(HexFormat.of().parseHex(s.parentSpanId())));
    }
    s.visitAttributes(
        new CompletedSpan.AttributeVisitor() {
          @Override
          public void string(AttributeKey<String> key, String value) {
            b.addAttributes(KeyValue.newBuilder().setKey(key.getKey()).setValue(AnyValue.newBuilder().setStringValue(value)));
          }

          @Override
          public void number(AttributeKey<Long> key, long value) {
            b.addAttributes(KeyValue.newBuilder().setKey(key.getKey()).setValue(AnyValue.newBuilder().setIntValue(value)));
          }
        });
    StatusData status = s.status();
    if (status.getStatusCode() == StatusCode.ERROR) {
      b.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR).setMessage(status.getDescription()));
    }
    return b.build();
  }
}
