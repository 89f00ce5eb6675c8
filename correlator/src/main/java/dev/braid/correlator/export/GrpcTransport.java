package dev.braid.correlator.export;

import com.google.protobuf.Message;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.collector.profiles.v1development.ProfilesServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** OTLP/gRPC through grpc-java and the service stubs of opentelemetry-proto. */
final class GrpcTransport implements OtlpTransport {
  /** The codes OTLP/gRPC says to retry after; any other failure is final. */
  private static final Set<Status.Code> RETRYABLE =
      Set.of(
          Status.Code.CANCELLED, Status.Code.DEADLINE_EXCEEDED, Status.Code.RESOURCE_EXHAUSTED, Status.Code.ABORTED,
          Status.Code.OUT_OF_RANGE, Status.Code.UNAVAILABLE, Status.Code.DATA_LOSS);

  private final OtlpEndpoint endpoint;
  private final ManagedChannel channel;

  GrpcTransport(OtlpEndpoint endpoint) {
    this.endpoint = endpoint;
    ChannelCredentials credentials = endpoint.tls() ? TlsChannelCredentials.create() : InsecureChannelCredentials.create();
    Metadata headers = new Metadata();
    endpoint.headers().forEach((k, v) -> headers.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    this.channel = Grpc.newChannelBuilder(endpoint.authority(), credentials).intercept(MetadataUtils.newAttachHeadersInterceptor(headers)).build();
  }

  @Override
  public long send(OtlpEndpoint.Signal signal, Message request) throws ExportFailure {
    long deadline = endpoint.timeout().toMillis();
    try {
      return switch (signal) {
        case TRACES ->
            TraceServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline, TimeUnit.MILLISECONDS)
                .export((ExportTraceServiceRequest) request)
                .getPartialSuccess()
                .getRejectedSpans();
        case PROFILES ->
            ProfilesServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline, TimeUnit.MILLISECONDS)
                .export((ExportProfilesServiceRequest) request)
                .getPartialSuccess()
                .getRejectedProfiles();
      };
    } catch (StatusRuntimeException e) {
      Status status = e.getStatus();
      if (status.getCode() == Status.Code.UNAVAILABLE) {
        // braid's exporter paces the retries; the channel's own reconnect backoff (up to two
        // minutes) would keep failing them fast long after the collector is back.
        channel.resetConnectBackoff();
      }
      String hint = status.getCode() == Status.Code.UNIMPLEMENTED && signal == OtlpEndpoint.Signal.PROFILES
          ? " (the collector does not take profiles: run it with --feature-gates=service.profilesSupport and a profiles pipeline)"
          : "";
      throw new ExportFailure(
          "grpc " + endpoint.authority() + " answered " + status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription()) + hint,
          RETRYABLE.contains(status.getCode()),
          e);
    }
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
