package dev.braid.conformance;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.braid.correlator.otlp.ApiSpans;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse;
import io.opentelemetry.proto.collector.profiles.v1development.ProfilesServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The suite's OTLP receiver on 127.0.0.1: keeps the spans a writer exports, over OTLP/HTTP
 * (protobuf or JSON, plain or gzip) or OTLP/gRPC (on a port of its own), and accepts, without
 * keeping, every other signal. The writer's spans are the truth of which spans it opened for each
 * request.
 */
public final class OtlpReceiver implements AutoCloseable {
  /** A span as the writer exported it; times are Unix epoch nanoseconds. */
  record ExportedSpan(String traceId, String spanId, String parentSpanId, Span.SpanKind kind, long startEpochNanos, long endEpochNanos) {}

  private static final JsonFormat.Parser JSON = JsonFormat.parser().ignoringUnknownFields();

  private final HttpServer http;
  private final ExecutorService httpThreads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("otlp-receiver-", 0).factory());
  private Server grpc;
  private final List<ExportedSpan> spans = new CopyOnWriteArrayList<>();
  private final List<String> refused = new CopyOnWriteArrayList<>();

  private OtlpReceiver(HttpServer http) {
    this.http = http;
  }

  /** On free ports of 127.0.0.1. */
  public static OtlpReceiver start() {
    InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    return start(any, any);
  }

  /**
   * OTLP/HTTP on {@code httpAddress}, OTLP/gRPC on {@code grpcAddress}: where an already running
   * writer exports (OTLP's own ports are 4318 and 4317).
   */
  public static OtlpReceiver start(InetSocketAddress httpAddress, InetSocketAddress grpcAddress) {
    OtlpReceiver receiver;
    try {
      receiver = new OtlpReceiver(HttpServer.create(httpAddress, 256));
    } catch (IOException e) {
      throw new UncheckedIOException("starting the suite's OTLP/HTTP receiver on " + httpAddress + ": " + e.getMessage(), e);
    }
    receiver.http.createContext("/", receiver::handle);
    receiver.http.setExecutor(receiver.httpThreads); // a thread a request: an exporter that sends batches at once never waits
    receiver.http.start();
    try {
      receiver.grpc = NettyServerBuilder.forAddress(grpcAddress).addService(receiver.new Traces()).addService(new Metrics())
          .addService(new Logs()).addService(new Profiles()).build().start();
    } catch (IOException e) {
      receiver.close();
      throw new UncheckedIOException("starting the suite's OTLP/gRPC receiver on " + grpcAddress + ": " + e.getMessage(), e);
    }
    return receiver;
  }

  /** The base URL an OTLP/HTTP exporter takes as its endpoint. */
  public String endpoint() {
    return "http://" + host(http.getAddress()) + ":" + http.getAddress().getPort();
  }

  /** The URL an OTLP/gRPC exporter takes as its endpoint. */
  public String grpcEndpoint() {
    InetSocketAddress a = (InetSocketAddress) grpc.getListenSockets().getFirst();
    return "http://" + host(a) + ":" + a.getPort();
  }

  private static String host(InetSocketAddress a) {
    return a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
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
      // Read whole before any answer: a body left unread would end the connection the sender reuses.
      byte[] sent = exchange.getRequestBody().readAllBytes();
      String type = String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type"));
      boolean json = type.startsWith("application/json");
      if (!"POST".equals(exchange.getRequestMethod()) || !json && !type.startsWith("application/x-protobuf")) {
        refuse(exchange, 415, exchange.getRequestMethod() + " " + exchange.getRequestURI() + " with Content-Type " + type
            + ": the suite's receiver takes OTLP/HTTP, protobuf (application/x-protobuf) or JSON (application/json)");
        return;
      }
      byte[] body;
      try (InputStream in = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
          ? new GZIPInputStream(new ByteArrayInputStream(sent)) : new ByteArrayInputStream(sent)) {
        body = in.readAllBytes();
      } catch (ZipException | EOFException e) {
        refuse(exchange, 400, "POST " + exchange.getRequestURI() + ": Content-Encoding gzip, but not gzip (" + e.getMessage() + ")");
        return;
      }
      if (exchange.getRequestURI().getPath().endsWith("/v1/traces")) {
        try {
          keep(json ? fromJson(body) : ExportTraceServiceRequest.parseFrom(body));
        } catch (InvalidProtocolBufferException e) {
          refuse(exchange, 400, "POST " + exchange.getRequestURI() + ": not an ExportTraceServiceRequest in " + (json ? "OTLP/JSON" : "protobuf")
              + " (" + e.getMessage() + ")");
          return;
        }
      }
      // An empty Export*ServiceResponse, in the request's encoding: all accepted.
      exchange.getResponseHeaders().set("Content-Type", json ? "application/json" : "application/x-protobuf");
      byte[] accepted = json ? "{}".getBytes(StandardCharsets.UTF_8) : new byte[0];
      exchange.sendResponseHeaders(200, accepted.length == 0 ? -1 : accepted.length);
      exchange.getResponseBody().write(accepted);
    }
  }

  /** OTLP/JSON: protobuf's JSON mapping, but with trace and span IDs in hex. */
  private static ExportTraceServiceRequest fromJson(byte[] body) throws InvalidProtocolBufferException {
    ExportTraceServiceRequest.Builder request = ExportTraceServiceRequest.newBuilder();
    JSON.merge(ApiSpans.base64Ids(new String(body, StandardCharsets.UTF_8)), request);
    return request.build();
  }

  /** Answers {@code status} with why, and keeps why for the report. */
  private void refuse(HttpExchange exchange, int status, String why) throws IOException {
    refused.add(why);
    byte[] body = why.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
  }

  /** Keeps the spans of one export (in one step: the list is copied on write); one with IDs of the wrong size is refused. */
  private void keep(ExportTraceServiceRequest request) {
    HexFormat hex = HexFormat.of();
    List<ExportedSpan> kept = new ArrayList<>();
    request.getResourceSpansList().forEach(rs -> rs.getScopeSpansList().forEach(ss -> ss.getSpansList().forEach(s -> {
      if (s.getTraceId().size() != 16 || s.getSpanId().size() != 8) {
        refused.add("a span with a trace id of " + s.getTraceId().size() + " bytes and a span id of " + s.getSpanId().size() + " (want 16 and 8)");
      } else {
        kept.add(new ExportedSpan(hex.formatHex(s.getTraceId().toByteArray()), hex.formatHex(s.getSpanId().toByteArray()),
            hex.formatHex(s.getParentSpanId().toByteArray()), s.getKind(), s.getStartTimeUnixNano(), s.getEndTimeUnixNano()));
      }
    })));
    spans.addAll(kept);
  }

  /** An OTLP/gRPC export answered: all accepted. */
  private static <T> void answer(StreamObserver<T> response, T accepted) {
    response.onNext(accepted);
    response.onCompleted();
  }

  /** OTLP/gRPC traces: kept like those over HTTP. */
  private final class Traces extends TraceServiceGrpc.TraceServiceImplBase {
    @Override
    public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> response) {
      keep(request);
      answer(response, ExportTraceServiceResponse.getDefaultInstance());
    }
  }

  /** The other signals over OTLP/gRPC: accepted, not kept. */
  private static final class Metrics extends MetricsServiceGrpc.MetricsServiceImplBase {
    @Override
    public void export(ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> response) {
      answer(response, ExportMetricsServiceResponse.getDefaultInstance());
    }
  }

  private static final class Logs extends LogsServiceGrpc.LogsServiceImplBase {
    @Override
    public void export(ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> response) {
      answer(response, ExportLogsServiceResponse.getDefaultInstance());
    }
  }

  private static final class Profiles extends ProfilesServiceGrpc.ProfilesServiceImplBase {
    @Override
    public void export(ExportProfilesServiceRequest request, StreamObserver<ExportProfilesServiceResponse> response) {
      answer(response, ExportProfilesServiceResponse.getDefaultInstance());
    }
  }

  @Override
  public void close() {
    if (grpc != null) {
      grpc.shutdownNow();
    }
    http.stop(0);
    httpThreads.shutdownNow();
  }
}
