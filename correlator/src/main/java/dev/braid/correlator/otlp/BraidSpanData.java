package dev.braid.correlator.otlp;

import dev.braid.correlator.CompletedSpan;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.List;

/**
 * A {@link CompletedSpan} as the OpenTelemetry SDK's exporters take it. The IDs come from the
 * kernel, so braid cannot go through the SDK's tracer: it hands its own {@link SpanData}.
 */
record BraidSpanData(CompletedSpan span, Resource resource) implements SpanData {
  static final InstrumentationScopeInfo SCOPE = InstrumentationScopeInfo.builder("dev.braid.tracer").setVersion("0.1.0").build();

  @Override
  public String getName() {
    return span.name();
  }

  @Override
  public SpanKind getKind() {
    return span.kind();
  }

  @Override
  public SpanContext getSpanContext() {
    return SpanContext.create(
        span.context().traceId(), span.context().spanId(), TraceFlags.fromByte((byte) span.traceFlags()), TraceState.getDefault());
  }

  @Override
  public SpanContext getParentSpanContext() {
    if (span.parentSpanId().isEmpty()) {
      return SpanContext.getInvalid();
    }
    return SpanContext.createFromRemoteParent(
        span.context().traceId(), span.parentSpanId(), TraceFlags.fromByte((byte) span.traceFlags()), TraceState.getDefault());
  }

  @Override
  public StatusData getStatus() {
    return span.status();
  }

  @Override
  public long getStartEpochNanos() {
    return span.startEpochNanos();
  }

  @Override
  public Attributes getAttributes() {
    return span.attributes();
  }

  @Override
  public List<EventData> getEvents() {
    return List.of();
  }

  @Override
  public List<LinkData> getLinks() {
    return List.of();
  }

  @Override
  public long getEndEpochNanos() {
    return span.endEpochNanos();
  }

  @Override
  public boolean hasEnded() {
    return true;
  }

  @Override
  public int getTotalRecordedEvents() {
    return 0;
  }

  @Override
  public int getTotalRecordedLinks() {
    return 0;
  }

  @Override
  public int getTotalAttributeCount() {
    return span.attributes().size();
  }

  @Override
  @SuppressWarnings("deprecation")
  public io.opentelemetry.sdk.common.InstrumentationLibraryInfo getInstrumentationLibraryInfo() {
    return io.opentelemetry.sdk.common.InstrumentationLibraryInfo.create(SCOPE.getName(), SCOPE.getVersion());
  }

  @Override
  public InstrumentationScopeInfo getInstrumentationScopeInfo() {
    return SCOPE;
  }

  @Override
  public Resource getResource() {
    return resource;
  }
}
