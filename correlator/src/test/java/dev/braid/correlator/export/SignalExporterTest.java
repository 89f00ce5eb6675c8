package dev.braid.correlator.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.braid.bpf.testing.LogCapture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OTLP queue of one signal, against a collector (OTLP/HTTP, protobuf) that is down, then back. */
class SignalExporterTest {
  private final AtomicBoolean down = new AtomicBoolean(true);
  private HttpServer collector;
  private LogCapture log;

  @BeforeEach
  void startCollector() throws Exception {
    collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    collector.createContext("/v1/traces", exchange -> {
      exchange.getRequestBody().readAllBytes();
      exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
      // No body: an ExportTraceServiceResponse that took everything is empty on the wire.
      exchange.sendResponseHeaders(down.get() ? 503 : 200, -1);
      exchange.close();
    });
    collector.start();
    log = LogCapture.of(SignalExporter.class.getName());
  }

  @AfterEach
  void stopCollector() {
    log.close();
    collector.stop(0);
  }

  @Test
  void anOverflowIsSaidOnceWithTheFixAndWhatItCostWhenItEnds() throws Exception {
    OtlpEndpoint endpoint = OtlpEndpoint.configure(Optional.of("http://127.0.0.1:" + collector.getAddress().getPort()), Optional.empty(), Map.of()).orElseThrow();
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    try (OtlpTransport transport = OtlpTransport.open(endpoint);
        SignalExporter exporter = new SignalExporter(OtlpEndpoint.Signal.TRACES, transport, 2, metrics)) {
      exporter.export(ExportTraceServiceRequest.getDefaultInstance(), 10);
      waitFor(() -> exporter.queued() == 0); // in flight: refused, retried
      for (int i = 0; i < 5; i++) {
        exporter.export(ExportTraceServiceRequest.getDefaultInstance(), 10); // 2 wait; the other 3 push the oldest out
      }
      assertThat(log.warnings("is full")).singleElement().asString()
          .contains("the OTLP queue of traces is full (2 requests)", "braid_export_items_spans_total{outcome=\"dropped\"}", "Raise --otlp-queue");
      double dropped = metrics.get("braid.export.items").tag("outcome", "dropped").counter().count();
      assertThat(dropped).isEqualTo(30);

      down.set(false); // back: the retry goes through, the queue drains
      waitFor(() -> exporter.queued() == 0 && metrics.get("braid.export.items").tag("outcome", "sent").counter().count() == 30);
      assertThat(log.warnings("has room again")).singleElement().asString()
          .contains("30 spans were dropped while it was full");
      assertThat(metrics.get("braid.export.items").tag("outcome", "sent").counter().count()).isEqualTo(30);
    }
  }

  private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waited 20 s").isLessThan(until);
      Thread.sleep(10);
    }
  }
}
