package dev.braid.correlator;

import dev.braid.bpf.TraceContext;
import dev.braid.tracer.SpanEvent;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A span whose start and end the probes saw (or whose end braid had to supply: {@code
 * endReason}). Holds what the probes read; the OpenTelemetry view (name, attributes, status after
 * the HTTP semantic conventions) is derived, so that the hot path allocates little.
 *
 * @param parentSpanId the parent's span id in hex, or empty for a root span
 * @param route {@code http.route} when known (Go 1.23+ ServeMux), else empty
 * @param host the Host of a server request, or the host:port a client request went to
 * @param protocolVersion the HTTP version of the request (server) or response (client), {@code
 *     1.1} or {@code 2}; empty when unknown
 * @param rpcSystem {@code grpc} for an RPC: {@code path} is its full method ({@code
 *     /package.Service/Method}) and {@code statusCode} its status code (0: OK); else empty
 * @param statusCode the HTTP status, or 0 when there is none
 * @param startTid the thread the span started on (its goroutine may run on others later)
 * @param links links to the spans this one handed values to, or got them from, over channels
 *     (at most {@link #MAX_LINKS}, the first ones)
 * @param droppedLinks links beyond {@link #MAX_LINKS}, not kept
 */
public record CompletedSpan(
    ProcessInfo process,
    TraceContext context,
    String parentSpanId,
    int traceFlags,
    SpanKind kind,
    String method,
    String path,
    String route,
    String host,
    String protocolVersion,
    String rpcSystem,
    long statusCode,
    SpanEvent.EndReason endReason,
    long startEpochNanos,
    long endEpochNanos,
    int startTid,
    List<SpanLink> links,
    int droppedLinks) {

  /** OpenTelemetry SDKs keep 128 links a span by default; so does braid. */
  public static final int MAX_LINKS = 128;

  public CompletedSpan {
    if (links.size() > MAX_LINKS) {
      droppedLinks += links.size() - MAX_LINKS;
      links = links.subList(0, MAX_LINKS);
    }
    links = List.copyOf(links);
  }

  /** The same span with more links ({@code dropped}: more that were not kept). */
  public CompletedSpan withLinks(List<SpanLink> more, int dropped) {
    if (more.isEmpty() && dropped == 0) {
      return this;
    }
    List<SpanLink> all = new ArrayList<>(links);
    all.addAll(more);
    return new CompletedSpan(
        process, context, parentSpanId, traceFlags, kind, method, path, route, host, protocolVersion, rpcSystem, statusCode, endReason, startEpochNanos,
        endEpochNanos, startTid,
        all, droppedLinks + dropped);
  }

  // OpenTelemetry semantic conventions (HTTP, v1.26+), and braid's own.
  public static final AttributeKey<String> HTTP_REQUEST_METHOD = AttributeKey.stringKey("http.request.method");
  public static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
  public static final AttributeKey<Long> HTTP_RESPONSE_STATUS_CODE = AttributeKey.longKey("http.response.status_code");
  public static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
  public static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  public static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  public static final AttributeKey<String> NETWORK_PROTOCOL_VERSION = AttributeKey.stringKey("network.protocol.version");
  public static final AttributeKey<String> END_REASON = AttributeKey.stringKey("braid.span.end_reason");

  /** Receives a span's attributes one by one, in a fixed order. */
  public interface AttributeVisitor {
    void string(AttributeKey<String> key, String value);

    void number(AttributeKey<Long> key, long value);

    void flag(AttributeKey<Boolean> key, boolean value);
  }

  // OpenTelemetry semantic conventions (RPC, v1.39+: the stable ones).
  public static final AttributeKey<String> RPC_SYSTEM_NAME = AttributeKey.stringKey("rpc.system.name");
  public static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");
  public static final AttributeKey<String> RPC_METHOD_ORIGINAL = AttributeKey.stringKey("rpc.method_original");
  public static final AttributeKey<String> RPC_STATUS_CODE = AttributeKey.stringKey("rpc.status_code");
  public static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  /** {@code GET /checkout}, or {@code GET} when the route is unknown; an RPC's method, {@code package.Service/Method}. */
  public String name() {
    if (isRpc()) {
      String m = rpcMethod();
      return m.equals(GrpcStatus.OTHER_METHOD) ? rpcSystem : m;
    }
    return route.isEmpty() ? method : method + " " + route;
  }

  /** Whether it is an RPC's span (rpc.system.name), not an HTTP request's. */
  public boolean isRpc() {
    return !rpcSystem.isEmpty();
  }

  /** rpc.method: the full method without its leading slash; {@code _OTHER} when the server did not know it. */
  private String rpcMethod() {
    return finishedWithStatus() && statusCode == GrpcStatus.UNIMPLEMENTED ? GrpcStatus.OTHER_METHOD : path.startsWith("/") ? path.substring(1) : path;
  }

  /** Whether the RPC ended with a status code of its own (not by its goroutine or process going away). */
  private boolean finishedWithStatus() {
    return endReason == SpanEvent.EndReason.FINISHED || endReason == SpanEvent.EndReason.CLIENT_ERROR;
  }

  /** The span's attributes, without building them. */
  public void visitAttributes(AttributeVisitor v) {
    if (isRpc()) {
      visitRpcAttributes(v);
      return;
    }
    v.string(HTTP_REQUEST_METHOD, method);
    v.string(URL_PATH, path);
    if (statusCode > 0) {
      v.number(HTTP_RESPONSE_STATUS_CODE, statusCode);
    }
    if (!route.isEmpty()) {
      v.string(HTTP_ROUTE, route);
    }
    HostPort.parse(host)
        .ifPresent(
            hp -> {
              v.string(SERVER_ADDRESS, hp.host());
              hp.port().ifPresent(port -> v.number(SERVER_PORT, port));
            });
    if (!protocolVersion.isEmpty()) {
      v.string(NETWORK_PROTOCOL_VERSION, protocolVersion);
    }
    if (endReason != SpanEvent.EndReason.FINISHED) {
      v.string(END_REASON, endReason.name().toLowerCase(Locale.ROOT));
    }
  }

  /** OpenTelemetry's gRPC conventions: the method, and the status code with error.type when it is an error. */
  private void visitRpcAttributes(AttributeVisitor v) {
    v.string(RPC_SYSTEM_NAME, rpcSystem);
    String m = rpcMethod();
    v.string(RPC_METHOD, m);
    if (m.equals(GrpcStatus.OTHER_METHOD)) {
      v.string(RPC_METHOD_ORIGINAL, path.startsWith("/") ? path.substring(1) : path);
    }
    if (finishedWithStatus()) {
      v.string(RPC_STATUS_CODE, GrpcStatus.name(statusCode));
      if (GrpcStatus.isError(statusCode, kind == SpanKind.SERVER)) {
        v.string(ERROR_TYPE, GrpcStatus.name(statusCode));
      }
    }
    HostPort.parse(host)
        .ifPresent(
            hp -> {
              v.string(SERVER_ADDRESS, hp.host());
              hp.port().ifPresent(port -> v.number(SERVER_PORT, port));
            });
    if (endReason != SpanEvent.EndReason.FINISHED) {
      v.string(END_REASON, endReason.name().toLowerCase(Locale.ROOT));
    }
  }

  /** The attributes as OpenTelemetry's API holds them. */
  public Attributes attributes() {
    return collect(this::visitAttributes);
  }

  /** What a visit yields, as OpenTelemetry's API holds attributes. */
  static Attributes collect(Consumer<AttributeVisitor> visit) {
    AttributesBuilder b = Attributes.builder();
    visit.accept(
        new AttributeVisitor() {
          @Override
          public void string(AttributeKey<String> key, String value) {
            b.put(key, value);
          }

          @Override
          public void number(AttributeKey<Long> key, long value) {
            b.put(key, value);
          }

          @Override
          public void flag(AttributeKey<Boolean> key, boolean value) {
            b.put(key, value);
          }
        });
    return b.build();
  }

  /** OpenTelemetry's HTTP conventions (5xx is an error on a server, 4xx too on a client) and gRPC's (GrpcStatus#isError). */
  public StatusData status() {
    return switch (endReason) {
      case GOROUTINE_EXITED -> StatusData.create(StatusCode.ERROR, "the goroutine exited before the request finished");
      case PROCESS_EXITED -> StatusData.create(StatusCode.ERROR, "the process exited before the request finished");
      case CLIENT_ERROR -> StatusData.create(StatusCode.ERROR, "the request failed without a response");
      default -> {
        if (isRpc()) {
          yield GrpcStatus.isError(statusCode, kind == SpanKind.SERVER) ? StatusData.create(StatusCode.ERROR, GrpcStatus.name(statusCode)) : StatusData.unset();
        }
        yield statusCode >= 500 || (kind == SpanKind.CLIENT && statusCode >= 400) ? StatusData.error() : StatusData.unset();
      }
    };
  }
}
