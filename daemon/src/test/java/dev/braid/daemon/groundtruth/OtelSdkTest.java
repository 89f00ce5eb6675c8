package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.CompletedSpan;
import dev.braid.daemon.DaemonConfig;
import dev.braid.correlator.ProfiledSample;
import dev.braid.correlator.SpanLink;
import dev.braid.examples.Examples;
import dev.braid.examples.GoBuild;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * A service that makes its own spans with the OpenTelemetry Go SDK (examples/otel's otelshop:
 * otelhttp's or otelgrpc's server span per request, manual spans around work), against the spans it exported:
 * every sample taken inside an application span names that span, by the application's IDs, and
 * braid exports no second span for a request.
 */
@Tag("kernel")
class OtelSdkTest {
  private static final Duration LOAD = Duration.ofSeconds(4);
  /** A load that goes on until its goals are met needs no long minimum (the release matrices run it 7 times). */
  private static final Duration LOAD_BEFORE_GOALS = Duration.ofSeconds(2);
  /** The application span whose samples each burn function's must name: a manual span's name, or "server" for otelhttp's. */
  private static final Map<String, String> SPAN_OF =
      Map.of(
          "main.priceCompute", "compute",
          "main.outerBurn", "outer",
          "main.innerBurn", "inner",
          "main.outerTail", "outer", // after inner ended: outer again
          "main.spawnedCompute", "fanout", // a goroutine started inside the span inherits it
          "main.afterHandedEnd", "server", // "handed" was ended by another goroutine
          "main.afterDelegatedEnd", "server", // the goroutine that inherited "delegated" ended it
          "main.plainBurn", "server");
  /** The same for otelshop -grpc: otelgrpc's server span per RPC, which ends after the RPC's status went out. */
  private static final Map<String, String> SPAN_OF_RPC = Map.of("main.priceCompute", "compute", "main.plainBurn", "server");
  private static final String HTTP_ROUTES = "/compute?ms=3,/nested?ms=2,/spawn?ms=3,/handoff?ms=2,/delegate?ms=2,/plain?ms=2";
  private static final String RPC_ROUTES = "Checkout:3,Plain:2";

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void everySampleInsideAnApplicationSpanNamesThatSpan(@TempDir Path dir) {
    samplesNameTheApplicationsSpans(Examples.binary("otelshop"), false, dir);
  }

  @Test
  void everySampleOfAnRpcNamesOtelgrpcsSpansAndBraidExportsNone(@TempDir Path dir) {
    samplesNameTheApplicationsSpans(Examples.binary("otelshop"), true, dir);
  }

  /** A stripped build (-s -w, PIE, no cgo): the SDK's offsets come from braid's table. */
  @Test
  void aStrippedServiceIsFollowedThroughTheSdksOffsetTable(@TempDir Path dir) {
    GoRelease newest = GoBuilds.covered().getLast();
    samplesNameTheApplicationsSpans(GoBuilds.otelBinary("otelshop", newest, GoBuild.STRIPPED_PIE_PURE, GoBuilds.otelVersionsFor(newest)), false, dir);
  }

  /**
   * Every Go release braid covers, each with the newest SDK it builds (examples/otel-versions.txt:
   * v1.29 to v1.47), over HTTP (otelhttp) and gRPC (otelgrpc).
   */
  @ParameterizedTest(name = "{0} with the OpenTelemetry SDK {1}")
  @MethodSource("releases")
  void everyGoReleaseWithItsSdk(GoRelease release, GoBuilds.OtelVersions sdk, @TempDir Path dir) {
    Path otelshop = GoBuilds.otelBinary("otelshop", release, GoBuild.DEFAULT, sdk);
    samplesNameTheApplicationsSpans(otelshop, false, dir.resolve("http"));
    samplesNameTheApplicationsSpans(otelshop, true, dir.resolve("grpc"));
  }

  /**
   * As a writer for another profiler, braid keeps exporting its own server span next to the
   * application's: that profiler may have stamped samples with it from traces_ctx_v1 before the
   * application's span began.
   */
  @Test
  void aWriterKeepsItsServerSpansForTheProfilerThatReadsTheMap(@TempDir Path dir) {
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(Examples.binary("otelshop"), "-spans", dir.resolve("spans.jsonl").toString())),
            new TracedRun.Load("shop", "/compute?ms=1", Duration.ZERO, 2).requests(200),
            c -> c.withMode(DaemonConfig.Mode.WRITER));
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    assertThat(run.metrics().get("braid.spans.replaced").counter().count()).isZero();
  }

  /**
   * A service whose handlers are not wrapped by otelhttp: its manual spans have no parent, each a
   * trace of its own. Their samples name them; braid's server span, around them, links to each.
   */
  @Test
  void braidsServerSpanLinksToTheRootSpansTheApplicationStartsInsideIt(@TempDir Path dir) {
    Path exported = dir.resolve("spans.jsonl");
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(Examples.binary("otelshop"), "-otelhttp=false", "-spans", exported.toString())),
            new TracedRun.Load("shop", "/compute?ms=2,/plain?ms=1", Duration.ofSeconds(2), 2)
                .until(Goal.samplesIn("main.priceCompute", 20).and(Goal.samplesIn("main.plainBurn", 20))),
            UnaryOperator.identity());
    Map<String, JsonNode> applications = JsonLines.read(exported).stream().collect(Collectors.toMap(s -> s.get("span_id").asText(), Function.identity()));
    assertThat(applications.values()).allSatisfy(s -> {
      assertThat(s.get("name").asText()).isEqualTo("compute");
      assertThat(s.get("parent_span_id").asText()).as("a root span").isEmpty();
    });
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    for (CompletedSpan server : run.spans()) {
      List<SpanLink> toApplication = server.links().stream().filter(l -> l.type() == SpanLink.Type.APPLICATION_SPAN).toList();
      if (server.path().equals("/plain")) {
        assertThat(toApplication).isEmpty();
        continue;
      }
      assertThat(toApplication).as("links of braid's span of %s to the application's spans", server.context()).singleElement().satisfies(l -> {
        JsonNode compute = applications.get(l.to().spanId());
        assertThat(compute).as("the span braid's links to is one the application exported").isNotNull();
        assertThat(compute.get("trace_id").asText()).isEqualTo(l.to().traceId()).isNotEqualTo(server.context().traceId());
      });
    }
    assertThat(run.metrics().get("braid.links.application").counter().count()).isEqualTo(applications.size());
    assertThat(run.samplesIn("main.priceCompute")).allSatisfy(s -> assertThat(applications).containsKey(s.context().orElseThrow().spanId()));
    assertThat(run.samplesIn("main.plainBurn")).allSatisfy(s -> assertThat(s.context().orElseThrow().traceId())
        .isIn(run.sent().stream().map(r -> r.get("trace_id").asText()).toList()));
  }

  static Stream<Arguments> releases() {
    return GoBuilds.covered().stream().map(r -> Arguments.of(r, GoBuilds.otelVersionsFor(r)));
  }

  /** {@code rpc}: otelshop serves gRPC (otelgrpc), driven by grpcload; else HTTP (otelhttp), driven by loadgen. */
  private static void samplesNameTheApplicationsSpans(Path otelshop, boolean rpc, Path dir) {
    Path exported = createDirectories(dir).resolve("spans.jsonl");
    Map<String, String> spanOf = rpc ? SPAN_OF_RPC : SPAN_OF;
    Goal goal = spanOf.keySet().stream().map(f -> Goal.samplesIn(f, 20)).reduce(Goal.samplesIn("main.compactIndex", 50), Goal::and);
    TracedRun.Load load = new TracedRun.Load("shop", rpc ? RPC_ROUTES : HTTP_ROUTES, LOAD_BEFORE_GOALS, 2).until(goal);
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(otelshop, "-spinners", "1", "-spans", exported.toString(), "-grpc=" + rpc)),
            rpc ? load.sentBy(Examples.binary("grpcload")) : load,
            UnaryOperator.identity());
    Map<String, JsonNode> bySpanId = JsonLines.read(exported).stream().collect(Collectors.toMap(s -> s.get("span_id").asText(), Function.identity()));

    // otelhttp continued each request's traceparent: the application's server span is in the sent trace.
    Map<String, JsonNode> serverByTrace = bySpanId.values().stream().filter(s -> s.get("kind").asText().equals("server"))
        .collect(Collectors.toMap(s -> s.get("trace_id").asText(), Function.identity()));
    for (JsonNode r : run.sent()) {
      JsonNode server = serverByTrace.get(r.get("trace_id").asText());
      assertThat(server).as("the application's server span of trace %s", r.get("trace_id").asText()).isNotNull();
      assertThat(server.get("parent_span_id").asText()).isEqualTo(r.get("parent_span_id").asText());
    }

    spanOf.forEach((function, expected) -> {
      List<ProfiledSample> burning = run.samplesIn(function);
      Figures.atLeast(function + " samples", burning.size(), 20);
      for (ProfiledSample s : burning) {
        assertThat(s.context()).as("context of a %s sample (stack %s)", function, Attribution.stack(s)).isPresent();
        TraceContext ctx = s.context().get();
        JsonNode span = bySpanId.get(ctx.spanId());
        assertThat(span).as("the span of a %s sample is one the application exported (%s)", function, ctx).isNotNull();
        assertThat(span.get("trace_id").asText()).isEqualTo(ctx.traceId());
        assertThat(expected.equals("server") ? span.get("kind").asText() : span.get("name").asText())
            .as("the application span a %s sample names", function).isEqualTo(expected);
      }
    });
    // One trace per request: the application's server span replaced braid's, which braid did not export;
    // every sample with a context (in net/http before otelhttp's span began, too) names a span the application exported.
    assertThat(run.spans()).as("spans braid exported for a service that makes its own server spans").isEmpty();
    assertThat(run.metrics().get("braid.spans.replaced").counter().count()).isEqualTo(run.sent().size());
    assertThat(run.samples()).filteredOn(s -> s.context().isPresent())
        .allSatisfy(s -> assertThat(bySpanId).as("the span of a sample (stack %s)", Attribution.stack(s)).containsKey(s.context().get().spanId()));
    Attribution.untracedWorkCarriesNoSpan(run, 50);
    assertThat(run.entriesWhenIdle()).as("traces_ctx_v1 entries once idle").allSatisfy((name, n) -> assertThat(n).isZero());
  }

  private static Path createDirectories(Path dir) {
    try {
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
