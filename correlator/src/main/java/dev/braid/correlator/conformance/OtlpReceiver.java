package dev.braid.correlator.conformance;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;

/**
 * The suite's OTLP/HTTP receiver on 127.0.0.1: keeps the spans a writer exports (protobuf, plain or
 * gzip) and accepts, without keeping, every other signal. The writer's spans are the truth of
 * which span it opened for each request.
 */
public final class OtlpReceiver implements AutoCloseable {
  /** A span as the writer exported it; times are Unix epoch nanoseconds. */
  record ExportedSpan(String traceId, String spanId, String parentSpanId, Span.SpanKind kind, long startEpochNanos, long endEpochNanos) {}

  private final HttpServer server;
  private final List<ExportedSpan> spans = new CopyOnWriteArrayList<>();
  private final List<String> refused = new CopyOnWriteArrayList<>();

  private OtlpReceiver(HttpServer server) {
    this.server = server;
  }

  /** On a free port of 127.0.0.1. */
  public static OtlpReceiver start() {
    return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  /** On {@code address}: where an already running writer exports (OTLP/HTTP's own port is 4318). */
  public static OtlpReceiver start(InetSocketAddress address) {
    try {
      HttpServer server = HttpServer.create(address, 64);
      OtlpReceiver receiver = new OtlpReceiver(server);
      server.createContext("/", receiver::handle);
      server.setExecutor(Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("otlp-receiver").factory()));
      server.start();
      return receiver;
    } catch (IOException e) {
      throw new UncheckedIOException("starting the suite's OTLP receiver on " + address + ": " + e.getMessage(), e);
    }
  }

  /** The base URL an OTLP exporter takes as its endpoint. */
  public String endpoint() {
    InetSocketAddress a = server.getAddress();
    return "http://" + (a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress()) + ":" + a.getPort();
  }

  List<ExportedSpan> spans() {
    return List.copyOf(spans);
  }

  /** Why exports were refused (a wrong content type, say), to show in the report. */
  List<String> refused() {
    return List.copyOf(refused);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String type = String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type"));
      if (!"POST".equals(exchange.getRequestMethod()) || !type.startsWith("application/x-protobuf")) {
        refuse(exchange, 415, exchange.getRequestMethod() + " " + exchange.getRequestURI() + " with Content-Type " + type
            + ": the suite's receiver takes OTLP/HTTP protobuf (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)");
        return;
      }
      byte[] body;
      try (InputStream in = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
          ? new GZIPInputStream(exchange.getRequestBody()) : exchange.getRequestBody()) {
        body = in.readAllBytes();
      } catch (java.util.zip.ZipException e) {
        refuse(exchange, 400, "POST " + exchange.getRequestURI() + ": Content-Encoding gzip, but not gzip (" + e.getMessage() + ")");
        return;
      }
      if (exchange.getRequestURI().getPath().endsWith("/v1/traces")) {
        try {
          keep(ExportTraceServiceRequest.parseFrom(body));
        } catch (InvalidProtocolBufferException e) {
          refuse(exchange, 400, "POST " + exchange.getRequestURI() + ": not an ExportTraceServiceRequest (" + e.getMessage() + ")");
          return;
        }
      }
      exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
      exchange.sendResponseHeaders(200, -1); // an empty Export*ServiceResponse: all accepted
    }
  }

  /** Answers {@code status} with why, and keeps why for the report. */
  private void refuse(HttpExchange exchange, int status, String why) throws IOException {
    refused.add(why);
    byte[] body = why.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
  }

  private void keep(ExportTraceServiceRequest request) {
    HexFormat hex = HexFormat.of();
    request.getResourceSpansList().forEach(rs -> rs.getScopeSpansList().forEach(ss -> ss.getSpansList().forEach(s ->
        spans.add(new ExportedSpan(hex.formatHex(s.getTraceId().toByteArray()), hex.formatHex(s.getSpanId().toByteArray()),
            hex.formatHex(s.getParentSpanId().toByteArray()), s.getKind(), s.getStartTimeUnixNano(), s.getEndTimeUnixNano())))));
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
