package dev.braid.conformance;

import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A correct writer shaped unlike braid, the way OBI is: the entry of a request's thread names a
 * span nested in the server span, and spans go out over OTLP/gRPC only. It runs braid's writer
 * ({@code args[0]}, with {@code {relay}} standing for its OTLP/HTTP endpoint) and relays its
 * spans to {@code BRAID_CONFORMANCE_OTLP_GRPC_ENDPOINT}, each server span S as two: a server span
 * of a new id around it (1 µs wider each side, S's parent) and S itself, renamed "processing",
 * internal, its child. The map's entries still name S, so they name the nested span.
 */
public final class NestedSpansGrpcWriter {
  private NestedSpansGrpcWriter() {}

  public static void main(String[] args) throws Exception {
    URI grpcEndpoint = URI.create(System.getenv("BRAID_CONFORMANCE_OTLP_GRPC_ENDPOINT"));
    ManagedChannel channel = Grpc.newChannelBuilder(grpcEndpoint.getAuthority(), InsecureChannelCredentials.create()).build();
    HttpServer relay = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    relay.createContext("/", exchange -> relay(exchange, TraceServiceGrpc.newBlockingStub(channel)));
    relay.start();
    String command = args[0].replace("{relay}", "http://127.0.0.1:" + relay.getAddress().getPort());
    Process braid = new ProcessBuilder("sh", "-c", command).inheritIO().start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        braid.waitFor(25, TimeUnit.SECONDS); // it got the same SIGTERM, and exports its last spans on the way out
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      relay.stop(0);
      channel.shutdown();
    }));
    System.exit(braid.waitFor());
  }

  private static void relay(HttpExchange exchange, TraceServiceGrpc.TraceServiceBlockingStub grpc) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (exchange.getRequestURI().getPath().endsWith("/v1/traces")) {
        grpc.withDeadlineAfter(10, TimeUnit.SECONDS).export(nested(ExportTraceServiceRequest.parseFrom(body)));
      }
      exchange.sendResponseHeaders(200, -1); // other signals: accepted, dropped
    } catch (RuntimeException e) {
      exchange.sendResponseHeaders(503, -1); // braid retries
    }
  }

  static ExportTraceServiceRequest nested(ExportTraceServiceRequest request) {
    ExportTraceServiceRequest.Builder out = request.toBuilder();
    for (ResourceSpans.Builder resource : out.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder scope : resource.getScopeSpansBuilderList()) {
        List<Span> spans = List.copyOf(scope.getSpansList());
        scope.clearSpans();
        for (Span s : spans) {
          if (s.getKind() != Span.SpanKind.SPAN_KIND_SERVER) {
            scope.addSpans(s);
            continue;
          }
          ByteString outer = outerId(s.getSpanId());
          scope.addSpans(s.toBuilder().setSpanId(outer).setStartTimeUnixNano(s.getStartTimeUnixNano() - 1_000).setEndTimeUnixNano(s.getEndTimeUnixNano() + 1_000));
          scope.addSpans(s.toBuilder().setName("processing").setKind(Span.SpanKind.SPAN_KIND_INTERNAL).setParentSpanId(outer));
        }
      }
    }
    return out.build();
  }

  /** A span id of its own for the outer span: the inner one's bytes, reversed and with one bit flipped. */
  private static ByteString outerId(ByteString inner) {
    byte[] b = new byte[inner.size()];
    for (int i = 0; i < b.length; i++) {
      b[i] = inner.byteAt(b.length - 1 - i);
    }
    b[0] ^= 0x40;
    return ByteString.copyFrom(b);
  }
}
