package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HexFormat;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** The suite's receiver keeps what an OTLP/HTTP exporter sends, and says why it refuses the rest. */
class OtlpReceiverTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static byte[] export(String traceId, String spanId) {
    Span span = Span.newBuilder().setTraceId(ByteString.copyFrom(HEX.parseHex(traceId))).setSpanId(ByteString.copyFrom(HEX.parseHex(spanId)))
        .setParentSpanId(ByteString.copyFrom(HEX.parseHex(PinProbe.PARENT_ID))).setKind(Span.SpanKind.SPAN_KIND_SERVER)
        .setStartTimeUnixNano(1_000).setEndTimeUnixNano(2_000).build();
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(ScopeSpans.newBuilder().addSpans(span))).build().toByteArray();
  }

  static int post(OtlpReceiver receiver, String type, String encoding, byte[] body) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(receiver.endpoint() + "/v1/traces")).header("Content-Type", type)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (encoding != null) {
      req.header("Content-Encoding", encoding);
    }
    return HTTP.send(req.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /** What the receiver keeps of {@link #export}'s span. */
  private static OtlpReceiver.ExportedSpan serverSpan(String traceId, String spanId) {
    return new OtlpReceiver.ExportedSpan(traceId, spanId, PinProbe.PARENT_ID, Span.SpanKind.SPAN_KIND_SERVER, 1_000, 2_000);
  }

  @Test
  void keepsProtobufSpansPlainAndGzipped() throws Exception {
    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(zipped)) {
      gz.write(export("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8"));
    }
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      assertThat(post(receiver, "application/x-protobuf", null, export("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7"))).isEqualTo(200);
      assertThat(post(receiver, "application/x-protobuf", "gzip", zipped.toByteArray())).isEqualTo(200);
      assertThat(receiver.spans()).containsExactly(serverSpan("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7"),
          serverSpan("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8"));
      assertThat(receiver.refused()).isEmpty();
    }
  }

  /** OTLP/JSON (hex IDs, enums by number) over HTTP, and OTLP/gRPC, as other writers' exporters send them. */
  @Test
  void keepsJsonAndGrpcSpans() throws Exception {
    String json = """
        {"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId": "5B8EFFF798038103D269B633813FC60C", "spanId" : "EEE19B7EC3C1B174",
        "parentSpanId":"b7ad6b7169203331","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":"2000","name":"GET /"}]}]}]}""";
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      assertThat(post(receiver, "application/json", null, json.getBytes())).isEqualTo(200);
      var channel = io.grpc.Grpc.newChannelBuilder(receiver.grpcEndpoint().substring("http://".length()), io.grpc.InsecureChannelCredentials.create()).build();
      try {
        io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc.newBlockingStub(channel)
            .export(ExportTraceServiceRequest.parseFrom(export("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8")));
      } finally {
        channel.shutdownNow();
      }
      assertThat(receiver.spans()).containsExactly(serverSpan("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"),
          serverSpan("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8"));
      assertThat(receiver.refused()).isEmpty();
    }
  }

  @Test
  void refusesOtherTypesAndBrokenBodiesAndSaysWhy() throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      assertThat(post(receiver, "text/plain", null, "{}".getBytes())).isEqualTo(415);
      assertThat(post(receiver, "application/x-protobuf", "gzip", new byte[] {1, 2, 3})).isEqualTo(400);
      assertThat(post(receiver, "application/x-protobuf", null, new byte[] {(byte) 0xff, (byte) 0xff})).isEqualTo(400);
      assertThat(post(receiver, "application/json", null, "{\"resourceSpans\":7}".getBytes())).isEqualTo(400);
      assertThat(post(receiver, "application/x-protobuf", null, export("0af7651916cd43dd", "00f067aa0ba902b7"))).isEqualTo(200); // an 8-byte trace id
      assertThat(receiver.spans()).isEmpty();
      assertThat(receiver.refused()).hasSize(5).last().asString().contains("a trace id of 8 bytes");
      assertThat(receiver.refused().getFirst()).contains("text/plain", "application/x-protobuf", "application/json");
    }
  }
}
