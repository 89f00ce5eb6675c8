package dev.braid.correlator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.testing.Commands;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.correlator.groundtruth.TracedRun;
import dev.braid.examples.ExampleService;
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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline on the real kernel against ground truth: the shop burns CPU in one named
 * function per route while two goroutines burn CPU outside any request, and the load generator
 * records the traceparent it sent with each request.
 */
@Tag("kernel")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path out;
  private final List<Batch> batches = new ArrayList<>();
  private final List<JsonNode> sent = new ArrayList<>();

  record Route(String path, String burnFunction) {}

  private static final List<Route> ROUTES = List.of(new Route("/checkout", "main.priceCart"), new Route("/search", "main.rankResults"));

  @BeforeAll
  void runTheShopUnderBraid() throws Exception {
    Kernel.requireBpf();
    try (PinRoot pins = PinRoot.create();
        ExampleService shop = ExampleService.start(Examples.binary("shop"), "-addr", "127.0.0.1:0", "-spinners", "2")) {
      DaemonConfig config =
          DaemonConfig.forExecutable(Examples.binary("shop"), out, pins.path()).withSampleHz(199).withFlushInterval(Duration.ofSeconds(2));
      try (Daemon daemon = Daemon.start(config, batches::add)) {
        Path requests = out.resolve("requests.jsonl");
        Process load =
            new ProcessBuilder(
                    Examples.binary("loadgen").toString(), "-target", shop.url(), "-routes", "/checkout?ms=3,/search?ms=3",
                    "-c", "2", "-d", "8s", "-out", requests.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        assertThat(load.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(load.exitValue()).isZero();
        for (String line : Files.readAllLines(requests)) {
          sent.add(JSON.readTree(line));
        }
        assertThat(daemon.pipelineErrors()).isZero();
      }
    }
  }

  private List<CompletedSpan> spans() {
    return batches.stream().flatMap(b -> b.spans().stream()).toList();
  }

  private List<ProfiledSample> samples() {
    return batches.stream().flatMap(b -> b.samples().stream()).toList();
  }

  @Test
  void everyRequestBecameOneServerSpanOfTheSentTrace() {
    assertThat(sent).hasSizeGreaterThan(200);
    Map<String, CompletedSpan> byTrace = new HashMap<>();
    for (CompletedSpan s : spans()) {
      assertThat(byTrace.put(s.context().traceId(), s)).as("one span per trace").isNull();
    }
    assertThat(byTrace).hasSameSizeAs(sent);
    for (JsonNode r : sent) {
      assertThat(r.get("status").asInt()).isEqualTo(200);
      CompletedSpan span = byTrace.get(r.get("trace_id").asText());
      assertThat(span).as("span of trace %s", r.get("trace_id").asText()).isNotNull();
      assertThat(span.parentSpanId()).isEqualTo(r.get("parent_span_id").asText());
      assertThat(span.kind()).isEqualTo(SpanKind.SERVER);
      assertThat(span.name()).isEqualTo("GET " + r.get("route").asText());
      assertThat(span.process().serviceName()).isEqualTo("shop");
      // The span lies within the client's view of the request.
      assertThat(span.startEpochNanos()).isGreaterThanOrEqualTo(r.get("start_unix_ns").asLong() - 1_000_000);
      assertThat(span.endEpochNanos()).isLessThanOrEqualTo(r.get("end_unix_ns").asLong() + 1_000_000);
    }
  }

  @Test
  void samplesInAnHandlersBurnFunctionCarryThatRoutesSpanTakenWithinIt() {
    for (Route route : ROUTES) {
      List<ProfiledSample> burning = samples().stream().filter(s -> holds(s, route.burnFunction())).toList();
      assertThat(burning).as(route.burnFunction() + " samples").hasSizeGreaterThan(50);
      long right =
          burning.stream()
              .filter(s -> s.span().isPresent())
              .filter(s -> s.span().get().route().equals(route.path()))
              .filter(s -> s.epochNanos() >= s.span().get().startEpochNanos() && s.epochNanos() <= s.span().get().endEpochNanos())
              .count();
      long noContext = burning.stream().filter(s -> s.context().isEmpty()).count();
      long idsOnly = burning.stream().filter(s -> s.context().isPresent() && s.span().isEmpty()).count();
      assertThat((double) right / burning.size())
          .as("share of %s samples in a %s span (of %d: %d without context, %d with an unknown span)", route.burnFunction(), route.path(), burning.size(), noContext, idsOnly)
          .isGreaterThanOrEqualTo(0.95);
      // And none of them carries a span of the other route.
      assertThat(burning).noneMatch(s -> s.span().isPresent() && !s.span().get().route().equals(route.path()));
    }
  }

  @Test
  void noSampleOfTheBusyUntracedGoroutinesCarriesASpan() {
    List<ProfiledSample> spinning = samples().stream().filter(s -> holds(s, "main.compactIndex")).toList();
    assertThat(spinning).hasSizeGreaterThan(100);
    assertThat(spinning).allSatisfy(s -> assertThat(s.context()).as("context of a compactIndex sample").isEmpty());
  }

  @Test
  void pprofListsTheSpanLabels() throws IOException {
    List<String> files;
    try (Stream<Path> list = Files.list(out.resolve("pprof"))) {
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
    List<String> lines = Files.readAllLines(out.resolve("traces.jsonl"));
    List<JsonNode> spans = new ArrayList<>();
    for (String line : lines) {
      for (JsonNode rs : JSON.readTree(line).get("resourceSpans")) {
        assertThat(attribute(rs.get("resource"), "service.name")).isEqualTo("shop");
        for (JsonNode ss : rs.get("scopeSpans")) {
          ss.get("spans").forEach(spans::add);
        }
      }
    }
    assertThat(spans).hasSameSizeAs(spans());
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

  private static boolean holds(ProfiledSample s, String function) {
    return TracedRun.holds(s, function);
  }
}
