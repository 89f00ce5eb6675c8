package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProfiledSample;
import dev.braid.examples.Examples;
import dev.braid.examples.GoBuild;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import dev.braid.tracer.GoProgram;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * --auto-sdk against a service that makes manual spans with the OpenTelemetry API and registers
 * no SDK (examples/otel's otelapi), which writes every span it ended with the trace of the request
 * it served: braid exports each of them once, in that trace, as the program set it, a child of
 * the span that was running (braid's server span, or the manual span around it), and every sample
 * inside one names it.
 */
@Tag("kernel")
class AutoSdkTest {
  private static final String ROUTES = "/compute?ms=3,/nested?ms=2,/plain?ms=2";
  /** The span each burn function's samples must name: a manual span's, or "server" for braid's. */
  private static final Map<String, String> SPAN_OF =
      Map.of("main.apiCompute", "compute", "main.apiOuter", "outer", "main.apiInner", "inner", "main.apiPlain", "server");

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void braidIsTheSdkOfAProgramThatUsesTheApiAlone(@TempDir Path dir) {
    braidExportsTheProgramsSpans(Examples.binary("otelapi"), dir);
  }

  /** Without --auto-sdk nothing is written into the program: its spans stay the API's no-ops. */
  @Test
  void withoutAutoSdkTheProgramsSpansStayNoOps(@TempDir Path dir) {
    TracedRun run = run(Examples.binary("otelapi"), dir, false);
    assertThat(JsonLines.read(dir.resolve("ended.jsonl"))).isNotEmpty();
    assertThat(run.applicationSpans()).isEmpty();
    assertThat(run.metrics().get("braid.auto_sdk.processes").functionCounter().count()).isZero();
    Map<String, CompletedSpan> braids = run.spans().stream().collect(Collectors.toMap(s -> s.context().spanId(), Function.identity()));
    assertThat(run.samplesIn("main.apiCompute")).isNotEmpty()
        .allSatisfy(s -> assertThat(braids).as("a compute sample names braid's server span").containsKey(s.context().orElseThrow().spanId()));
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
  }

  /**
   * otelhttp on the API alone: its SERVER span is braid's child too, so it replaces braid's span
   * for the request, taking its parent (the sent one): one server span per request, and the
   * samples of braid's span, in net/http before otelhttp began, name it.
   */
  @Test
  void otelhttpsServerSpanOnTheApiAloneReplacesBraids(@TempDir Path dir) {
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(Examples.binary("otelapi"), "-otelhttp", "-spans", dir.resolve("ended.jsonl").toString())),
            new TracedRun.Load("shop", "/compute?ms=2,/plain?ms=2", Duration.ofSeconds(2), 2)
                .until(Goal.samplesIn("main.apiCompute", 20).and(Goal.samplesIn("main.apiPlain", 20))),
            c -> c.withAutoSdk(true));
    Map<String, Span> exported = run.applicationSpans().stream().collect(Collectors.toMap(s -> hex(s.getSpanId().toByteArray()), Function.identity()));
    Map<String, List<String>> serversByTrace = new java.util.HashMap<>();
    exported.values().stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER)
        .forEach(s -> serversByTrace.computeIfAbsent(hex(s.getTraceId().toByteArray()), t -> new java.util.ArrayList<>()).add(hex(s.getParentSpanId().toByteArray())));
    run.spans().stream().filter(s -> s.kind() == SpanKind.SERVER)
        .forEach(s -> serversByTrace.computeIfAbsent(s.context().traceId(), t -> new java.util.ArrayList<>()).add(s.parentSpanId()));
    for (JsonNode sent : run.sent()) {
      assertThat(serversByTrace.get(sent.get("trace_id").asText())).as("the parents of the server spans of trace %s", sent.get("trace_id").asText())
          .containsExactly(sent.get("parent_span_id").asText());
    }
    long applicationServers = exported.values().stream().filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER).count();
    Figures.atLeast("requests whose server span is otelhttp's", applicationServers, run.sent().size() / 2);
    assertThat(run.metrics().get("braid.spans.replaced").counter().count()).isEqualTo(applicationServers);
    // Every sample with a context names a span that was exported (net/http's, before otelhttp began, names otelhttp's).
    Map<String, CompletedSpan> braids = run.spans().stream().collect(Collectors.toMap(s -> s.context().spanId(), Function.identity()));
    assertThat(run.samples()).filteredOn(s -> s.context().isPresent())
        .allSatisfy(s -> assertThat(braids.containsKey(s.context().get().spanId()) || exported.containsKey(s.context().get().spanId()))
            .as("the span of a sample (stack %s) was exported", Attribution.stack(s)).isTrue());
    assertThat(run.samplesIn("main.apiCompute")).filteredOn(s -> exported.containsKey(s.context().orElseThrow().spanId()))
        .allSatisfy(s -> assertThat(exported.get(s.context().orElseThrow().spanId()).getName()).isEqualTo("compute"));
  }

  /**
   * Every Go release braid covers, each with the newest OpenTelemetry API it builds
   * (examples/otel-versions.txt): from v1.34 on, the API's global tracer links
   * go.opentelemetry.io/auto/sdk; before, --auto-sdk leaves the program alone.
   */
  @ParameterizedTest(name = "{0} with the OpenTelemetry API {1}")
  @MethodSource("releases")
  void everyGoReleaseWithItsApi(GoRelease release, GoBuilds.OtelVersions api, @TempDir Path dir) {
    Path otelapi = GoBuilds.otelBinary("otelapi", release, GoBuild.DEFAULT, api);
    if (autoSdkLinked(api.sdk())) {
      braidExportsTheProgramsSpans(otelapi, dir);
    } else {
      TracedRun run = run(otelapi, dir, true);
      assertThat(JsonLines.read(dir.resolve("ended.jsonl"))).isNotEmpty();
      assertThat(run.applicationSpans()).isEmpty();
      Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
      assertThat(GoProgram.inspect(otelapi).warnings()).anyMatch(w -> w.contains("--auto-sdk cannot record its spans"));
    }
  }

  static Stream<Arguments> releases() {
    return GoBuilds.covered().stream().map(r -> Arguments.of(r, GoBuilds.otelVersionsFor(r)));
  }

  /** go.opentelemetry.io/otel v1.34 and later: its global tracer hands out auto/sdk's spans when told to. */
  private static boolean autoSdkLinked(String otelVersion) {
    String[] parts = otelVersion.substring(1).split("\\.");
    return Integer.parseInt(parts[0]) > 1 || Integer.parseInt(parts[1]) >= 34;
  }

  private static TracedRun run(Path otelapi, Path dir, boolean autoSdk) {
    Goal goal = SPAN_OF.keySet().stream().map(f -> Goal.samplesIn(f, 20)).reduce(Goal.NONE, Goal::and);
    return TracedRun.run(
        List.of(TracedRun.Service.shop(otelapi, "-spans", dir.resolve("ended.jsonl").toString())),
        new TracedRun.Load("shop", ROUTES, Duration.ofSeconds(3), 2).until(goal),
        c -> c.withAutoSdk(autoSdk));
  }

  private static void braidExportsTheProgramsSpans(Path otelapi, Path dir) {
    TracedRun run = run(otelapi, dir, true);
    List<JsonNode> ended = JsonLines.read(dir.resolve("ended.jsonl"));
    Map<String, Span> exported = run.applicationSpans().stream().collect(Collectors.toMap(s -> hex(s.getSpanId().toByteArray()), Function.identity()));
    Map<String, CompletedSpan> braids = run.spans().stream().collect(Collectors.toMap(s -> s.context().spanId(), Function.identity()));

    // Every span the program ended was exported once, by braid, in the trace of the request it served;
    // those it made before braid turned its SDK on stayed no-ops, and are counted.
    List<JsonNode> recorded = ended.stream().filter(e -> e.get("recording").asBoolean()).toList();
    // (a probe that fires twice, the function restarting after growing its stack, counts twice)
    assertThat(run.metrics().get("braid.auto_sdk.spans.missed").functionCounter().count()).isBetween(
        (double) ended.size() - recorded.size(), 2.0 * (ended.size() - recorded.size()));
    Figures.atMost("spans made before braid turned the program's SDK on", ended.size() - recorded.size(), ended.size() / 2);
    Map<String, List<String>> endedByTrace =
        recorded.stream().collect(Collectors.groupingBy(e -> e.get("request_trace_id").asText(), Collectors.mapping(e -> e.get("name").asText(), Collectors.toList())));
    Map<String, List<String>> exportedByTrace =
        exported.values().stream().collect(Collectors.groupingBy(s -> hex(s.getTraceId().toByteArray()), Collectors.mapping(Span::getName, Collectors.toList())));
    assertThat(exported).hasSameSizeAs(run.applicationSpans()).hasSameSizeAs(recorded);
    assertThat(exportedByTrace.keySet()).isEqualTo(endedByTrace.keySet());
    endedByTrace.forEach((trace, names) -> assertThat(exportedByTrace.get(trace)).as("spans of trace %s", trace).containsExactlyInAnyOrderElementsOf(names));
    for (Span s : exported.values()) {
      assertThat(s.getEndTimeUnixNano()).isGreaterThan(s.getStartTimeUnixNano());
      // Its parent: braid's server span of the request for "compute" and "outer", "outer" for "inner".
      String parent = hex(s.getParentSpanId().toByteArray());
      boolean outerRecorded = exportedByTrace.get(hex(s.getTraceId().toByteArray())).contains("outer");
      if (s.getName().equals("inner") && outerRecorded) {
        assertThat(exported.get(parent)).as("the parent of an inner span").isNotNull().extracting(Span::getName).isEqualTo("outer");
      } else {
        CompletedSpan server = braids.get(parent);
        assertThat(server).as("the parent of a %s span: braid's server span", s.getName()).isNotNull();
        assertThat(server.kind()).isEqualTo(SpanKind.SERVER);
        assertThat(server.context().traceId()).isEqualTo(hex(s.getTraceId().toByteArray()));
      }
      if (s.getName().equals("compute")) {
        assertThat(s.getAttributesList()).anySatisfy(a -> {
          assertThat(a.getKey()).isEqualTo("work.ms");
          assertThat(a.getValue().getIntValue()).isEqualTo(3);
        });
        assertThat(s.getEventsList()).extracting(Span.Event::getName).containsExactly("priced");
      }
    }
    assertThat(recorded.stream().map(e -> e.get("name").asText()).distinct()).containsExactlyInAnyOrder("compute", "outer", "inner");
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);

    // Every sample inside a manual span names that span; the others braid's server span.
    SPAN_OF.forEach((function, expected) -> {
      List<ProfiledSample> burning = run.samplesIn(function);
      Figures.atLeast(function + " samples", burning.size(), 20);
      for (ProfiledSample p : burning) {
        assertThat(p.context()).as("context of a %s sample (stack %s)", function, Attribution.stack(p)).isPresent();
        TraceContext ctx = p.context().get();
        boolean missed = !expected.equals("server") && !exportedByTrace.getOrDefault(ctx.traceId(), List.of()).contains(expected);
        if (expected.equals("server") || missed) { // a span made before braid turned the SDK on: braid's server span
          assertThat(braids.get(ctx.spanId())).as("the span of a %s sample", function).isNotNull();
        } else {
          Span span = exported.get(ctx.spanId());
          assertThat(span).as("the span of a %s sample is one braid exported for the program (%s)", function, ctx).isNotNull();
          assertThat(span.getName()).isEqualTo(expected);
          assertThat(hex(span.getTraceId().toByteArray())).isEqualTo(ctx.traceId());
        }
      }
    });
    assertThat(run.samples()).filteredOn(s -> s.context().isPresent())
        .allSatisfy(s -> assertThat(braids.containsKey(s.context().get().spanId()) || exported.containsKey(s.context().get().spanId()))
            .as("the span of a sample (stack %s) is one braid exported", Attribution.stack(s)).isTrue());
    assertThat(run.metrics().get("braid.auto_sdk.spans").counter().count()).isEqualTo(recorded.size());
    assertThat(run.metrics().get("braid.auto_sdk.processes").functionCounter().count()).isEqualTo(1);
    assertThat(run.metrics().get("braid.auto_sdk.spans.cut").counter().count()).isZero();
    assertThat(run.entriesWhenIdle()).as("traces_ctx_v1 entries once idle").allSatisfy((name, n) -> assertThat(n).isZero());
  }

  private static String hex(byte[] id) {
    return HexFormat.of().formatHex(id);
  }
}
