package dev.braid.correlator.export;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where braid sends OTLP, configured as OpenTelemetry's SDKs are: {@code --otlp-endpoint} or
 * {@code OTEL_EXPORTER_OTLP_ENDPOINT}, {@code --otlp-protocol} or {@code
 * OTEL_EXPORTER_OTLP_PROTOCOL} ({@code grpc} or {@code http/protobuf}, the default), {@code
 * OTEL_EXPORTER_OTLP_HEADERS} and {@code OTEL_EXPORTER_OTLP_TIMEOUT} (milliseconds). For
 * http/protobuf the endpoint is a base URL and the signal's path is appended, unless {@code
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} or {@code OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT} names the
 * signal's full URL.
 */
public record OtlpEndpoint(
    Protocol protocol, URI endpoint, Map<Signal, URI> signalUrls, Map<String, String> headers, Duration timeout, int queueRequests) {
  /** Requests each signal holds while the collector cannot take them: minutes of flushes. */
  public static final int DEFAULT_QUEUE_REQUESTS = 64;


  public enum Protocol {
    GRPC("grpc"),
    HTTP_PROTOBUF("http/protobuf");

    final String name;

    Protocol(String name) {
      this.name = name;
    }

    static Protocol parse(String text) {
      for (Protocol p : values()) {
        if (p.name.equals(text.strip().toLowerCase(Locale.ROOT))) {
          return p;
        }
      }
      throw new IllegalArgumentException("OTLP protocol must be grpc or http/protobuf, not '" + text + "'");
    }
  }

  /** The signals braid exports, with their OTLP/HTTP paths. */
  public enum Signal {
    TRACES("/v1/traces", "TRACES"),
    PROFILES("/v1development/profiles", "PROFILES");

    final String httpPath;
    final String envName;

    Signal(String httpPath, String envName) {
      this.httpPath = httpPath;
      this.envName = envName;
    }

    /** The lower-case name metrics and logs use. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public OtlpEndpoint {
    if (queueRequests < 1) {
      throw new IllegalArgumentException("the OTLP queue must hold at least one request, not " + queueRequests);
    }
    signalUrls = Map.copyOf(signalUrls);
    headers = Map.copyOf(headers);
  }

  /**
   * The endpoint the flags and the environment name; empty when neither names one (braid then
   * writes files only).
   *
   * @throws IllegalArgumentException a malformed URL, protocol, header list or timeout, with what
   *     was wrong
   */
  public static Optional<OtlpEndpoint> configure(Optional<String> endpointFlag, Optional<String> protocolFlag, Map<String, String> env) {
    Optional<String> endpoint = endpointFlag.or(() -> nonBlank(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")));
    Map<Signal, URI> signalUrls = new LinkedHashMap<>();
    for (Signal s : Signal.values()) {
      nonBlank(env.get("OTEL_EXPORTER_OTLP_" + s.envName + "_ENDPOINT")).ifPresent(u -> signalUrls.put(s, uri(u)));
    }
    if (endpoint.isEmpty() && signalUrls.isEmpty()) {
      return Optional.empty();
    }
    Protocol protocol = protocolFlag.or(() -> nonBlank(env.get("OTEL_EXPORTER_OTLP_PROTOCOL"))).map(Protocol::parse).orElse(Protocol.HTTP_PROTOBUF);
    URI base = uri(endpoint.orElse(protocol == Protocol.GRPC ? "http://localhost:4317" : "http://localhost:4318"));
    Duration timeout = nonBlank(env.get("OTEL_EXPORTER_OTLP_TIMEOUT")).map(OtlpEndpoint::millis).orElse(Duration.ofSeconds(10));
    return Optional.of(
        new OtlpEndpoint(protocol, base, signalUrls, headers(env.getOrDefault("OTEL_EXPORTER_OTLP_HEADERS", "")), timeout, DEFAULT_QUEUE_REQUESTS));
  }

  public OtlpEndpoint withQueueRequests(int requests) {
    return new OtlpEndpoint(protocol, endpoint, signalUrls, headers, timeout, requests);
  }

  /** The URL an OTLP/HTTP request of {@code signal} goes to. */
  public URI httpUrl(Signal signal) {
    URI explicit = signalUrls.get(signal);
    if (explicit != null) {
      return explicit;
    }
    String base = endpoint.toString();
    return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + signal.httpPath);
  }

  /** host:port for gRPC. */
  String authority() {
    int port = endpoint.getPort() > 0 ? endpoint.getPort() : "https".equals(endpoint.getScheme()) ? 443 : 4317;
    return endpoint.getHost() + ":" + port;
  }

  boolean tls() {
    return "https".equals(endpoint.getScheme());
  }

  private static URI uri(String text) {
    try {
      URI uri = new URI(text.strip());
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
        throw new IllegalArgumentException("OTLP endpoint must be an http:// or https:// URL with a host, not '" + text + "'");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("OTLP endpoint '" + text + "' is not a URL: " + e.getReason());
    }
  }

  /** W3C baggage-like {@code key=value,key2=value2}, values URL-encoded. */
  private static Map<String, String> headers(String text) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (String pair : text.split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas, not '" + pair.strip() + "'");
      }
      headers.put(
          pair.substring(0, eq).strip().toLowerCase(Locale.ROOT),
          java.net.URLDecoder.decode(pair.substring(eq + 1).strip(), java.nio.charset.StandardCharsets.UTF_8));
    }
    return headers;
  }

  private static Duration millis(String text) {
    try {
      return Duration.ofMillis(Long.parseLong(text.strip()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("OTEL_EXPORTER_OTLP_TIMEOUT must be milliseconds, not '" + text + "'");
    }
  }

  private static Optional<String> nonBlank(String s) {
    return s == null || s.isBlank() ? Optional.empty() : Optional.of(s);
  }
}
