package dev.braid.correlator.otlp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.ProcessInfo;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import dev.braid.correlator.Batch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OTLP/JSON spans of --auto-sdk programs, as go.opentelemetry.io/auto/sdk serializes them. */
class ApiSpansTest {
  private static final ProcessInfo PROCESS = new ProcessInfo(4242, "/srv/shop", "shop", "host");
  private static final TraceContext SPAN = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8");
  /**
   * One span as go.opentelemetry.io/auto/sdk v1.2.1 serialized it (captured from its ended hook):
   * the program's view has no IDs, an int attribute is a string, times and the kind are numbers,
   * a link to one of the program's own spans has no IDs either.
   */
  private static final String JSON =
      "{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"scope\":{\"name\":\"braid.dev/examples/otel/otelapi\",\"v"
          + "ersion\":\"1.0\"},\"spans\":[{\"traceId\":\"\",\"spanId\":\"\",\"name\":\"compute \\\"quoted\\\"\",\"kind\":2,\"attributes\":"
          + "[{\"key\":\"work.ms\",\"value\":{\"intValue\":\"3\"}},{\"key\":\"tag\",\"value\":{\"stringValue\":\"a\"}}],\"events\":[{\"n"
          + "ame\":\"priced\",\"timeUnixNano\":1796573427432811555},{\"name\":\"exception\",\"attributes\":[{\"key\":\"exceptio"
          + "n.type\",\"value\":{\"stringValue\":\"*errors.errorString\"}},{\"key\":\"exception.message\",\"value\":{\"stringVa"
          + "lue\":\"boom\"}}],\"timeUnixNano\":1796573427432812406}],\"links\":[{\"traceId\":\"0af700000000000000000000000"
          + "00000\",\"spanId\":\"b7ad000000000000\"},{\"traceId\":\"\",\"spanId\":\"\"}],\"status\":{\"message\":\"no\",\"code\":2},\""
          + "startTimeUnixNano\":1796573427432810233,\"endTimeUnixNano\":1796573427432814590}]}]}]}";

  private static ApiSpans.Ended ended(byte[] json, long size) {
    return new ApiSpans.Ended(SPAN, "00f067aa0ba902b7", 1_000, 5_000, size, json);
  }

  @Test
  void theProgramsSpanGoesOutAsItSetItWithBraidsIds() throws InvalidProtocolBufferException {
    byte[] json = JSON.getBytes(StandardCharsets.UTF_8);
    List<ResourceSpans> out = ApiSpans.of(ended(json, json.length), PROCESS);
    assertThat(out).singleElement().satisfies(r -> {
      assertThat(r.getResource().getAttributesList()).anySatisfy(a -> assertThat(a.getKey()).isEqualTo("service.name"));
      assertThat(r.getScopeSpans(0).getScope().getName()).isEqualTo("braid.dev/examples/otel/otelapi");
      assertThat(r.getScopeSpans(0).getScope().getVersion()).isEqualTo("1.0");
    });
    Span s = out.getFirst().getScopeSpans(0).getSpans(0);
    assertThat(HexFormat.of().formatHex(s.getTraceId().toByteArray())).isEqualTo(SPAN.traceId());
    assertThat(HexFormat.of().formatHex(s.getSpanId().toByteArray())).isEqualTo(SPAN.spanId());
    assertThat(HexFormat.of().formatHex(s.getParentSpanId().toByteArray())).isEqualTo("00f067aa0ba902b7");
    assertThat(s.getName()).isEqualTo("compute \"quoted\"");
    assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    assertThat(s.getStartTimeUnixNano()).isEqualTo(1796573427432810233L);
    assertThat(s.getEndTimeUnixNano()).isEqualTo(1796573427432814590L);
    assertThat(s.getAttributesList()).extracting(a -> a.getKey() + "=" + (a.getValue().hasIntValue() ? a.getValue().getIntValue() : a.getValue().getStringValue()))
        .containsExactly("work.ms=3", "tag=a");
    assertThat(s.getEventsList()).extracting(Span.Event::getName).containsExactly("priced", "exception");
    assertThat(s.getLinksList()).singleElement().satisfies(l -> assertThat(HexFormat.of().formatHex(l.getSpanId().toByteArray())).isEqualTo("b7ad000000000000"));
    assertThat(s.getDroppedLinksCount()).as("the link to one of the program's own spans, which has no IDs").isEqualTo(1);
    assertThat(s.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR);
    assertThat(s.getStatus().getMessage()).isEqualTo("no");
  }

  /** Larger than one event: IDs, parent, times, and the name and scope that the JSON's start holds; the loss is on the span. */
  @Test
  void aCutSpanKeepsWhatBraidKnows() throws InvalidProtocolBufferException {
    byte[] json = Arrays.copyOf(JSON.getBytes(StandardCharsets.UTF_8), 220);
    Span s = ApiSpans.of(ended(json, 20_000), PROCESS).getFirst().getScopeSpans(0).getSpans(0);
    assertThat(s.getName()).isEqualTo("compute \"quoted\"");
    assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    assertThat(HexFormat.of().formatHex(s.getSpanId().toByteArray())).isEqualTo(SPAN.spanId());
    assertThat(s.getStartTimeUnixNano()).isEqualTo(1_000);
    assertThat(s.getEndTimeUnixNano()).isEqualTo(5_000);
    assertThat(s.getAttributesList()).singleElement().satisfies(a -> {
      assertThat(a.getKey()).isEqualTo(ApiSpans.CUT_ATTRIBUTE);
      assertThat(a.getValue().getIntValue()).isEqualTo(20_000 - 220);
    });
  }

  /** traces.jsonl holds them as the collector's file exporter would: IDs in hex. */
  @Test
  void theTraceFileWritesThemWithHexIds(@TempDir Path dir) throws IOException {
    byte[] json = JSON.getBytes(StandardCharsets.UTF_8);
    List<ResourceSpans> spans = ApiSpans.of(ended(json, json.length), PROCESS);
    try (TraceFile file = new TraceFile(dir.resolve("traces.jsonl"))) {
      file.write(new Batch(0, 1, List.of(), spans, List.of(), false));
    }
    assertThat(Files.readAllLines(dir.resolve("traces.jsonl"))).singleElement().satisfies(line -> assertThat(line)
        .contains("\"traceId\":\"" + SPAN.traceId() + "\"", "\"spanId\":\"" + SPAN.spanId() + "\"", "\"parentSpanId\":\"00f067aa0ba902b7\"",
            "\"name\":\"compute \\\"quoted\\\"\"", "\"spanId\":\"b7ad000000000000\""));
  }

  @Test
  void jsonThatIsNotOtlpIsRefused() {
    byte[] json = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":3}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> ApiSpans.of(ended(json, json.length), PROCESS)).isInstanceOf(InvalidProtocolBufferException.class);
  }
}
