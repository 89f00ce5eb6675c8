package dev.braid.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.testing.Commands;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.CompletedSpan;
import dev.braid.daemon.groundtruth.Attribution;
import dev.braid.daemon.groundtruth.Goal;
import dev.braid.daemon.groundtruth.TracedRun;
import dev.braid.examples.Examples;
import io.opentelemetry.api.trace.SpanKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The whole pipeline on the real kernel against ground truth: the shop burns CPU in one named
 * function per route while two goroutines burn CPU outside any request, and the load generator
 * records the traceparent it sent with each request.
 */
@Tag("kernel")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long CLOCK_SLEW_NANOS = 10_000_000;
  private TracedRun run;

  record Route(String path, String burnFunction) {}

  private static final List<Route> ROUTES = List.of(new Route("/checkout", "main.priceCart"), new Route("/search", "main.rankResults"));

  @BeforeAll
  void runTheShopUnderBraid() {
    Kernel.requireBpf();
    run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(Examples.binary("shop"), "-spinners", "2")),
            new TracedRun.Load("shop", "/checkout?ms=3,/search?ms=3", Duration.ofSeconds(8), 2)
                .until(Goal.samplesIn("main.priceCart", 50).and(Goal.samplesIn("main.rankResults", 50)).and(Goal.samplesIn("main.compactIndex", 100))
                    .and(Goal.serverSpans("/checkout", 100)).and(Goal.serverSpans("/search", 100))),
            c -> c.withSampleHz(199).withFlushInterval(Duration.ofSeconds(2)));
  }

  @Test
  void everyRequestBecameOneServerSpanOfTheSentTrace() {
    Figures.atLeast("requests sent", run.sent().size(), 200);
    Map<String, CompletedSpan> byTrace = new HashMap<>();
    for (CompletedSpan s : run.spans()) {
      assertThat(byTrace.put(s.context().traceId(), s)).as("one span per trace").isNull();
    }
    assertThat(byTrace).hasSameSizeAs(run.sent());
    for (JsonNode r : run.sent()) {
      assertThat(r.get("status").asInt()).isEqualTo(200);
      CompletedSpan span = byTrace.get(r.get("trace_id").asText());
      assertThat(span).as("span of trace %s", r.get("trace_id").asText()).isNotNull();
      assertThat(span.parentSpanId()).isEqualTo(r.get("parent_span_id").asText());
      assertThat(span.kind()).isEqualTo(SpanKind.SERVER);
      assertThat(span.name()).isEqualTo("GET " + r.get("route").asText());
      assertThat(span.process().serviceName()).isEqualTo("shop");
      // The span lies within the client's view of the request. braid times spans on CLOCK_MONOTONIC
      // and turns them into wall time by an offset taken at its start; loadgen reads the wall clock,
      // which NTP may slew meanwhile (at most 500 ppm: 10 ms over the 20 s a run may last).
      assertThat(span.startEpochNanos()).isGreaterThanOrEqualTo(r.get("start_unix_ns").asLong() - CLOCK_SLEW_NANOS);
      assertThat(span.endEpochNanos()).isLessThanOrEqualTo(r.get("end_unix_ns").asLong() + CLOCK_SLEW_NANOS);
    }
  }

  @Test
  void samplesInAnHandlersBurnFunctionCarryThatRoutesSpanTakenWithinIt() {
    for (Route route : ROUTES) {
      Attribution.burnSamplesCarryTheirRoutesSpan(run, route.path(), route.burnFunction(), 50);
    }
  }

  @Test
  void noSampleOfTheBusyUntracedGoroutinesCarriesASpan() {
    Attribution.untracedWorkCarriesNoSpan(run, 100);
  }

  @Test
  void pprofListsTheSpanLabels() throws IOException {
    List<String> files;
    try (Stream<Path> list = Files.list(run.outputDir().resolve("pprof"))) {
      files = list.map(Path::toString).sorted().toList();
    }
    assertThat(files).isNotEmpty().allMatch(f -> f.matches(".*/shop-\\d+-\\d+\\.pb\\.gz"));
    List<String> cmd = new ArrayList<>(List.of("go", "tool", "pprof", "-tags"));
    cmd.addAll(files);
    String tags = Commands.run(cmd);
    assertThat(tags).contains("trace_id:").contains("span_id:").contains("span_name:").contains("GET /checkout").contains("GET /search");
  }

  @Test
  void tracesJsonlHoldsEverySpanAsOtlpJson() throws IOException {
    List<String> lines = Files.readAllLines(run.outputDir().resolve("traces.jsonl"));
    List<JsonNode> spans = new ArrayList<>();
    for (String line : lines) {
      for (JsonNode rs : JSON.readTree(line).get("resourceSpans")) {
        assertThat(attribute(rs.get("resource"), "service.name")).isEqualTo("shop");
        for (JsonNode ss : rs.get("scopeSpans")) {
          ss.get("spans").forEach(spans::add);
        }
      }
    }
    assertThat(spans).hasSameSizeAs(run.spans());
    JsonNode first = spans.getFirst();
    assertThat(first.get("traceId").asText()).matches("[0-9a-f]{32}"); // hex, not base64
    assertThat(first.get("spanId").asText()).matches("[0-9a-f]{16}");
    assertThat(first.get("kind").asInt()).isEqualTo(2); // SPAN_KIND_SERVER
  }

  private static String attribute(JsonNode owner, String key) {
    for (JsonNode a : owner.get("attributes")) {
      if (a.get("key").asText().equals(key)) {
        return a.get("value").get("stringValue").asText();
      }
    }
    return null;
  }
}
