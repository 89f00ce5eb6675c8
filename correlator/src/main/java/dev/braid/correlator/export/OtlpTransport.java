package dev.braid.correlator.export;

import com.google.protobuf.Message;

/** Sends one OTLP export request and waits for the collector's answer. Thread-safe. */
public sealed interface OtlpTransport extends AutoCloseable permits GrpcTransport, HttpTransport {

  /**
   * Sends {@code request} (an {@code ExportTraceServiceRequest} or {@code
   * ExportProfilesServiceRequest}, as {@code signal} says).
   *
   * @return the items the collector accepted the request but rejected (OTLP partial success), 0
   *     when it took all
   */
  long send(OtlpEndpoint.Signal signal, Message request) throws ExportFailure;

  static OtlpTransport open(OtlpEndpoint endpoint) {
    return switch (endpoint.protocol()) {
      case GRPC -> new GrpcTransport(endpoint);
      case HTTP_PROTOBUF -> new HttpTransport(endpoint);
    };
  }

  @Override
  void close();
}
