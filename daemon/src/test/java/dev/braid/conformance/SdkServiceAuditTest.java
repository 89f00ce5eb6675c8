package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.BpfMap;
import dev.braid.bpf.MonotonicClock;
import dev.braid.bpf.TracesContextMap;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.correlator.GoroutineLocators;
import dev.braid.examples.Examples;
import dev.braid.tracer.GoProgram;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conformance audit on a service that makes its own spans with the OpenTelemetry Go SDK
 * (examples/otel's otelshop: otelhttp's server span, manual spans that burn CPU): braid's writer
 * keeps the application's innermost running span in traces_ctx_v1, so every sample of a handler
 * shows a span the application exported, and the innermost one (inside {@code compute}, {@code
 * compute}; inside {@code inner}, {@code inner}). The truth is the service's handler log and the
 * spans its SDK exported (its {@code -spans} file).
 */
@Tag("kernel")
class SdkServiceAuditTest {
  private static final String JAVA =
      Path.of(System.getProperty("java.home"), "bin", "java") + " --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "
          + System.getProperty("java.class.path");
  private static final String NEW_RECORDING_SPAN = "go.opentelemetry.io/otel/sdk/trace.(*tracer).newRecordingSpan";
  private static final List<String> ROUTES = List.of("/compute?ms=2", "/nested?ms=1", "/plain?ms=1", "/compute?ms=0");

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void everySampleInsideAManualSpanShowsThatSpan(@TempDir Path dir) throws Exception {
    Path otelshop = Examples.binary("otelshop");
    Path truth = dir.resolve("truth.log");
    Path exported = dir.resolve("spans.jsonl");
    PinProbe probe = new PinProbe(PinProbe.READY);
    List<ContextAuditor.Sample> samples = new ArrayList<>();
    ExactnessAudit audit;
    try (PinRoot pins = PinRoot.create();
        OtlpReceiver receiver = OtlpReceiver.start();
        ServiceProcess service = ServiceProcess.start(otelshop, "-addr", "127.0.0.1:0", "-spinners", "1", "-truth", truth.toString(), "-spans", exported.toString());
        WriterProcess braid = WriterProcess.start(JAVA + " dev.braid.daemon.cli.BraidCli run --exe {exe} --pin-path {pin-path} --out " + dir.resolve("out")
            + " --flush-interval 1s --log-level warn", otelshop, pins.path(), receiver)) {
      assertThat(PinProbe.poll(PinProbe.READY, () -> Files.exists(TracesContextMap.pinPath(pins.path())))).as(braid.tail()).isTrue();
      AuditWorkload.Http workload = new AuditWorkload.Http(otelshop, probe, ROUTES, "/compute?ms=400");
      try (BpfMap map = BpfMap.openPinned(TracesContextMap.pinPath(pins.path())).orElseThrow()) {
        assertThat(workload.untraced(map, service, braid, PinProbe.READY)).as("braid showed a request of otelshop; it said:\n%s", braid.tail()).isEmpty();
      }
      ProcessCode code = ProcessCode.of(otelshop, service.pid());
      long windowStart = System.nanoTime();
      try (ContextAuditor auditor = ContextAuditor.start(pins.path(), ExactnessCheck.HZ, samples::add)) {
        auditor.audit(service.pid(), GoroutineLocators.of(GoProgram.inspect(otelshop)));
        new ExactnessCheck(workload, pins.path(), PinProbe.READY, step -> {}).load(service, auditor::drain, () -> samples.size() >= ExactnessCheck.ENOUGH_SAMPLES);
        auditor.drain();
      }
      assertThat(service.terminate(Duration.ofSeconds(30))).as("exits on SIGTERM, once the SDK's batcher wrote its last spans").isTrue();
      MonotonicClock clock = MonotonicClock.measure();
      audit = new ExactnessAudit(ExactnessAudit.readTruth(truth), windowStart, applicationSpans(exported, clock), clock, code::functionAt);
    }
    samples.forEach(audit::judge);
    String figure = "inside handlers: " + audit.inRequests + "; elsewhere: " + audit.elsewhere + "; " + audit.requestsInWindow + " requests, "
        + audit.requestsUnexported + " unexported";
    System.out.println("SDK service audit: " + figure);
    assertThat(audit.requestsInWindow).as(figure).isGreaterThan(100);
    assertThat(audit.requestsUnexported).as(figure).isZero();
    assertThat(audit.inRequests.judged()).as(figure).isGreaterThanOrEqualTo(ExactnessCheck.MIN_SAMPLES);
    assertThat(List.of(audit.inRequests.stale, audit.inRequests.missing, audit.elsewhere.stale)).as(figure).containsOnly(0L);
    // Known gap (spec 3.8): braid sets the entry at newRecordingSpan's entry, a few µs before the
    // SDK takes the span's start time; a sample there, when the goroutine was preempted between
    // the two, shows the span early. Any other wrong sample fails.
    assertThat(audit.inRequests.wrongIn.keySet()).as(figure).isSubsetOf(NEW_RECORDING_SPAN);
    assertThat(audit.inRequests.wrong).as(figure).isLessThanOrEqualTo(audit.inRequests.judged() / 1000);
    // Every right sample shows the innermost of the application's spans that lasted then: its manual span, inside one.
    // Seen in about one run of three: one sample in ~20,000, milliseconds inside /compute's span, shows
    // otelhttp's span around it (cause not found yet; spec 3.8). More than that fails.
    assertThat(audit.inRequests.right - audit.inRequests.innermost).as(figure).isLessThanOrEqualTo(Math.max(1, audit.inRequests.right / 5000));
  }

  /**
   * otelshop's -spans file: what its SDK exported, one JSON object a span. Its times are taken from
   * their CLOCK_MONOTONIC readings, in epoch time by {@code clock}: the SDK's wall readings are
   * taken apart from those (time.Now reads one clock, then the other), and a thread preempted in
   * between shifts a span by as long (seen: 2 ms), so that samples late in it looked stale.
   */
  private static List<OtlpReceiver.ExportedSpan> applicationSpans(Path file, MonotonicClock clock) throws java.io.IOException {
    ObjectMapper json = new ObjectMapper();
    List<OtlpReceiver.ExportedSpan> spans = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      JsonNode s = json.readTree(line);
      spans.add(new OtlpReceiver.ExportedSpan(s.get("trace_id").asText(), s.get("span_id").asText(), s.get("parent_span_id").asText(),
          SpanKind.valueOf("SPAN_KIND_" + s.get("kind").asText().toUpperCase(Locale.ROOT)), clock.toEpochNanos(s.get("start_monotonic_ns").asLong()), clock.toEpochNanos(s.get("end_monotonic_ns").asLong())));
    }
    return spans;
  }
}
