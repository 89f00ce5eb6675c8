package dev.braid.correlator.export;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** OTLP/HTTP with binary protobuf bodies, on the JDK's HTTP client. */
final class HttpTransport implements OtlpTransport {
  /** The statuses OTLP/HTTP says to retry after; any other failure is final. */
  private static final Set<Integer> RETRYABLE = Set.of(429, 502, 503, 504);

  private final OtlpEndpoint endpoint;
  private final HttpClient client;

  HttpTransport(OtlpEndpoint endpoint) {
    this.endpoint = endpoint;
    this.client = HttpClient.newBuilder().connectTimeout(endpoint.timeout()).build();
  }

  @Override
  public long send(OtlpEndpoint.Signal signal, Message request) throws ExportFailure {
    HttpRequest.Builder http =
        HttpRequest.newBuilder(endpoint.httpUrl(signal))
            .timeout(endpoint.timeout())
            .header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(request.toByteArray()));
    endpoint.headers().forEach(http::header);
    HttpResponse<byte[]> response;
    try {
      response = client.send(http.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new ExportFailure(endpoint.httpUrl(signal) + " cannot be reached: " + e, true, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ExportFailure("interrupted", true, e);
    }
    int status = response.statusCode();
    if (status / 100 != 2) {
      String body = new String(response.body(), 0, Math.min(response.body().length, 300), StandardCharsets.UTF_8).strip();
      throw new ExportFailure(endpoint.httpUrl(signal) + " answered HTTP " + status + (body.isEmpty() ? "" : ": " + body), RETRYABLE.contains(status), null);
    }
    try {
      return switch (signal) {
        case TRACES -> ExportTraceServiceResponse.parseFrom(response.body()).getPartialSuccess().getRejectedSpans();
        case PROFILES -> ExportProfilesServiceResponse.parseFrom(response.body()).getPartialSuccess().getRejectedProfiles();
      };
    } catch (InvalidProtocolBufferException e) {
      return 0; // a 2xx with a body that is no OTLP response: the data was taken
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
