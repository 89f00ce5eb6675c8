package dev.braid.correlator.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProcessInfo;
import dev.braid.correlator.SpanLink;
import dev.braid.tracer.SpanEvent.EndReason;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * traces.jsonl's hand-written OTLP/JSON, read back by protobuf's own JSON parser, says exactly
 * what the OTLP protobuf encoder says of the same spans: for every kind of span, and whether a
 * span's encoded description was cached, replaced in its slot, or met again as equal strings
 * that are other objects.
 */
class TraceFileTest {
  private static final ProcessInfo SHOP = new ProcessInfo(41, "/srv/shop", "shop", "node-1", Attributes.builder().put("container.id", "c0ffee").build());
  private static final ProcessInfo CART = new ProcessInfo(42, "/srv/cart", "cart", "node-1");

  @TempDir Path dir;
  private long next = 1;

  @Test
  void everyLineSaysWhatTheProtobufEncoderSays() throws Exception {
    List<CompletedSpan> spans = new ArrayList<>();
    for (int i = 0; i < 3; i++) { // the same description: encoded once, then found
      spans.add(http(SHOP, SpanKind.SERVER, "GET", "/checkout", "/checkout", "shop:8080", "1.1", 200, EndReason.FINISHED));
    }
    // the same request but for one field, right after it: each field changes what is written
    List<CompletedSpan> variants = List.of(
        http(SHOP, SpanKind.SERVER, "GET", "/checkout", "/checkout", "shop:8080", "1.1", 500, EndReason.FINISHED),
        http(SHOP, SpanKind.SERVER, "GET", "/checkout", "/checkout", "shop:8080", "1.1", 200, EndReason.FINISHED_BY_BRAID),
        http(SHOP, SpanKind.CLIENT, "GET", "/checkout", "/checkout", "shop:8080", "1.1", 200, EndReason.FINISHED),
        http(SHOP, SpanKind.SERVER, "GET", "/checkout", "/checkout", "shop:8080", "2", 200, EndReason.FINISHED),
        http(SHOP, SpanKind.SERVER, "PUT", "/checkout", "/checkout", "shop:8080", "1.1", 200, EndReason.FINISHED),
        http(SHOP, SpanKind.SERVER, "GET", "/cart", "/checkout", "shop:8080", "1.1", 200, EndReason.FINISHED),
        http(SHOP, SpanKind.SERVER, "GET", "/checkout", "", "shop:8080", "1.1", 200, EndReason.FINISHED),
        http(SHOP, SpanKind.SERVER, "GET", "/checkout", "/checkout", "shop:8081", "1.1", 200, EndReason.FINISHED),
        http(SHOP, SpanKind.SERVER, "GET", "/checkout", "/checkout", "shop:8080", "1.1", 200, EndReason.FINISHED, "grpc"));
    for (CompletedSpan variant : variants) {
      spans.add(http(SHOP, SpanKind.SERVER, "GET", "/checkout", "/checkout", "shop:8080", "1.1", 200, EndReason.FINISHED));
      spans.add(variant);
    }
    // equal strings that are other objects: encoded again, to the same bytes
    spans.add(http(SHOP, SpanKind.SERVER, new String("GET"), new String("/checkout"), new String("/checkout"), new String("shop:8080"), "1.1", 200, EndReason.FINISHED));
    spans.add(http(SHOP, SpanKind.SERVER, "POST", "/pay", "/pay", "shop:8080", "1.1", 503, EndReason.FINISHED));
    spans.add(http(SHOP, SpanKind.SERVER, "GET", "/hijack", "", "[::1]:9000", "", 0, EndReason.GOROUTINE_EXITED));
    spans.add(http(CART, SpanKind.CLIENT, "GET", "/prices", "", "api.example.com", "2", 404, EndReason.FINISHED));
    spans.add(http(CART, SpanKind.CLIENT, "GET", "/prices", "", "api.example.com:443", "", 0, EndReason.CLIENT_ERROR));
    spans.add(http(SHOP, SpanKind.SERVER, "GET", "/s\u00e9arch \"q\"\\\u0001", "/s\u00e9arch", "shop", "1.1", 200, EndReason.END_LOST));
    spans.add(http(CART, SpanKind.SERVER, "POST", "/shop.Cart/Checkout", "", "cart:50051", "2", 0, EndReason.FINISHED, "grpc"));
    spans.add(http(CART, SpanKind.SERVER, "POST", "/shop.Cart/Gone", "", "cart:50051", "2", 12, EndReason.FINISHED, "grpc"));
    spans.add(http(CART, SpanKind.CLIENT, "POST", "/shop.Cart/Checkout", "", "cart:50051", "2", 14, EndReason.FINISHED, "grpc"));
    spans.add(http(SHOP, SpanKind.SERVER, "GET", "/dispatch", "/dispatch", "shop:8080", "1.1", 200, EndReason.FINISHED)
        .withLinks(List.of(new SpanLink(context(), SpanLink.Side.SENDER, 0xc000123000L, 4, true, false), new SpanLink(context(), SpanLink.Side.RECEIVER, 0xc000124000L, 0, false, true),
            SpanLink.toApplicationSpan(context())), 3));
    // More descriptions than the cache has slots, so that slots are replaced; a path comes back
    // with another status, end, kind or protocol, each of which changes what is written.
    for (int i = 0; i < 600; i++) {
      spans.add(http(i % 2 == 0 ? SHOP : CART, i % 11 == 0 ? SpanKind.CLIENT : SpanKind.SERVER, "GET", "/item/" + i % 300, "/item/{id}", "shop:8080",
          i % 13 == 0 ? "2" : "1.1", 200 + 100 * (i % 7) / 2, i % 5 == 0 ? EndReason.FINISHED_BY_BRAID : EndReason.FINISHED));
    }

    Path file = dir.resolve("traces.jsonl");
    try (TraceFile traces = new TraceFile(file)) {
      traces.write(spans.subList(0, 30));
      traces.write(spans.subList(30, spans.size()));
    }

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(2);
    ExportTraceServiceRequest.Builder read = ExportTraceServiceRequest.newBuilder();
    for (String line : lines) {
      ExportTraceServiceRequest.Builder one = ExportTraceServiceRequest.newBuilder();
      JsonFormat.parser().merge(base64Ids(line), one);
      read.mergeFrom(one.build());
    }
    ExportTraceServiceRequest.Builder expected = SpansEncoder.encode(spans.subList(0, 30)).toBuilder().mergeFrom(SpansEncoder.encode(spans.subList(30, spans.size())));
    assertThat(withoutEmptyStatus(read.build())).isEqualTo(withoutEmptyStatus(expected.build()));
    assertThat(read.getResourceSpansList().stream().mapToInt(r -> r.getScopeSpans(0).getSpansCount()).sum()).isEqualTo(spans.size());
  }

  private static final java.util.regex.Pattern HEX_ID = java.util.regex.Pattern.compile("\"(traceId|spanId|parentSpanId)\":\"([0-9a-f]+)\"");

  /** OTLP/JSON writes ids in hex where protobuf's JSON mapping has base64. */
  private static String base64Ids(String line) {
    return HEX_ID.matcher(line).replaceAll(m -> "\"" + m.group(1) + "\":\"" + java.util.Base64.getEncoder().encodeToString(java.util.HexFormat.of().parseHex(m.group(2))) + "\"");
  }

  /** traces.jsonl writes an unset status as {@code "status":{}}; the encoder leaves it out. */
  private static ExportTraceServiceRequest withoutEmptyStatus(ExportTraceServiceRequest request) {
    ExportTraceServiceRequest.Builder b = request.toBuilder();
    for (ResourceSpans.Builder r : b.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder scope : r.getScopeSpansBuilderList()) {
        for (Span.Builder span : scope.getSpansBuilderList()) {
          if (span.getStatus().equals(Status.getDefaultInstance())) {
            span.clearStatus();
          }
        }
      }
    }
    return b.build();
  }

  private CompletedSpan http(ProcessInfo process, SpanKind kind, String method, String path, String route, String host, String version, long status, EndReason reason) {
    return http(process, kind, method, path, route, host, version, status, reason, "");
  }

  private CompletedSpan http(ProcessInfo process, SpanKind kind, String method, String path, String route, String host, String version, long status, EndReason reason, String rpc) {
    long start = 1_796_636_668_344_437_584L + next * 1_000;
    String parent = next % 3 == 0 ? "" : String.format("%016x", 0xb7ad6b7169203331L + next);
    return new CompletedSpan(process, context(), parent, (int) (next % 2), kind, method, path, route, host, version, rpc, status, reason, start, start + 20_000 + next,
        (int) next, List.of(), 0);
  }

  private TraceContext context() {
    long n = next++;
    return new TraceContext(String.format("%016x%016x", 0x4bf92f3577b34da6L + n, 0xa3ce929d0e0e4736L * n), String.format("%016x", 0x53995c3f42cd8ad8L + n));
  }
}
