package dev.braid.correlator.export;

import dev.braid.correlator.Batch;
import dev.braid.correlator.Output;
import dev.braid.correlator.otlp.ProfilesEncoder;
import dev.braid.correlator.otlp.SpansEncoder;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.time.Duration;

/** Spans and profiles to an OTLP endpoint, each signal through its own queue and sender. */
public final class OtlpExport implements Output {
  /** How long stopping braid waits for the collector to take what is queued. */
  static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);

  private final OtlpEndpoint endpoint;
  private final OtlpTransport transport;
  private final SignalExporter traces;
  private final SignalExporter profiles;
  private final ProfilesEncoder profilesEncoder;

  public OtlpExport(OtlpEndpoint endpoint, long sampleHz, MeterRegistry metrics) {
    this.endpoint = endpoint;
    this.transport = OtlpTransport.open(endpoint);
    this.traces = new SignalExporter(OtlpEndpoint.Signal.TRACES, transport, endpoint.queueRequests(), metrics);
    this.profiles = new SignalExporter(OtlpEndpoint.Signal.PROFILES, transport, endpoint.queueRequests(), metrics);
    this.profilesEncoder = new ProfilesEncoder(sampleHz);
  }

  @Override
  public String name() {
    return "OTLP export to " + endpoint.endpoint();
  }

  @Override
  public void write(Batch batch) {
    if (!batch.spans().isEmpty() || !batch.applicationSpans().isEmpty()) {
      ExportTraceServiceRequest request = SpansEncoder.encode(batch.spans()).toBuilder().addAllResourceSpans(batch.applicationSpans()).build();
      traces.export(request, batch.spans().size() + batch.applicationSpans().size());
    }
    if (!batch.samples().isEmpty()) {
      profiles.export(profilesEncoder.encode(batch.samples(), batch.startEpochNanos(), batch.endEpochNanos()), batch.samples().size());
    }
  }

  @Override
  public void close() {
    // Both signals get the grace period at once, then the connection goes.
    Thread t = Thread.ofPlatform().start(() -> traces.close(SHUTDOWN_GRACE));
    profiles.close(SHUTDOWN_GRACE);
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    transport.close();
  }
}
