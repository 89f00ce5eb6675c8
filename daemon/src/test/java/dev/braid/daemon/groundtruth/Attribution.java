package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.braid.bpf.testing.Figures;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProfiledSample;
import io.opentelemetry.api.trace.SpanKind;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The checks every ground-truth run shares: spans against what was sent, samples against spans. */
public final class Attribution {
  private Attribution() {}

  /** Every request that was sent became one server span of the sent trace, with the sent parent. */
  public static void everyRequestIsOneServerSpanOfItsTrace(TracedRun run) {
    assertThat(run.sent()).isNotEmpty();
    Map<String, CompletedSpan> byTrace = new HashMap<>();
    for (CompletedSpan s : run.spans()) {
      if (s.kind() == SpanKind.SERVER) {
        assertThat(byTrace.put(s.context().traceId(), s)).as("one server span per trace").isNull();
      }
    }
    for (JsonNode r : run.sent()) {
      assertThat(r.get("status").asInt()).as("status of %s", r).isEqualTo(200);
      CompletedSpan span = byTrace.get(r.get("trace_id").asText());
      assertThat(span).as("server span of trace %s", r.get("trace_id").asText()).isNotNull();
      assertThat(span.parentSpanId()).isEqualTo(r.get("parent_span_id").asText());
      assertThat(path(span)).isEqualTo(r.get("route").asText());
      assertThat(span.name()).isIn("GET " + r.get("route").asText(), "GET"); // http.route needs Go 1.23+
    }
    assertThat(byTrace).hasSameSizeAs(run.sent());
  }

  /**
   * No sample carries a wrong or stale span: each sample with a context names a span braid saw,
   * of the sampled process, and was taken between that span's start and end; and once the load is
   * over, no thread of a service keeps an entry in traces_ctx_v1.
   */
  public static void noSampleCarriesAWrongOrStaleSpan(TracedRun run) {
    assertThat(run.entriesWhenIdle()).as("traces_ctx_v1 entries per service once idle").allSatisfy((name, n) -> assertThat(n).isZero());
    List<ProfiledSample> withContext = run.samples().stream().filter(s -> s.context().isPresent()).toList();
    assertThat(withContext).isNotEmpty();
    for (ProfiledSample s : withContext) {
      assertThat(s.span()).as("the span of sample at %d (ids only means braid never saw it)", s.epochNanos()).isPresent();
      CompletedSpan span = s.span().get();
      assertThat(span.process().pid()).isEqualTo(s.process().pid());
      assertThat(s.epochNanos())
          .as("time of a sample in %s (stack %s)", span.name(), stack(s))
          .isBetween(span.startEpochNanos(), span.endEpochNanos());
    }
  }

  /**
   * Every sample in a path's burn function (at least {@code atLeast} of them) carries a span of
   * that path, and was taken within it: the handler's goroutine runs the burn function, and its
   * span is known at every instant it runs.
   */
  public static void burnSamplesCarryTheirRoutesSpan(TracedRun run, String path, String burnFunction, int atLeast) {
    List<ProfiledSample> burning = run.samplesIn(burnFunction);
    Figures.atLeast(burnFunction + " samples", burning.size(), atLeast);
    for (ProfiledSample s : burning) {
      assertThat(s.context()).as("context of a %s sample (stack %s)", burnFunction, stack(s)).isPresent();
      assertThat(s.span()).as("span of a %s sample (ids only: braid never saw it)", burnFunction).isPresent();
      CompletedSpan span = s.span().get();
      assertThat(path(span)).as("the route of the span of a %s sample", burnFunction).isEqualTo(path);
      assertThat(s.epochNanos()).as("time of a %s sample", burnFunction).isBetween(span.startEpochNanos(), span.endEpochNanos());
    }
  }

  /** The functions of a sample's stack, leaf first, for messages. */
  static String stack(ProfiledSample s) {
    return s.stack().stream().flatMap(l -> l.lines().stream()).map(l -> l.function()).limit(30).toList().toString();
  }

  /** The request path a span was made for (url.path), or an RPC's full method (/package.Service/Method). */
  public static String path(CompletedSpan span) {
    return span.path();
  }

  /** No sample of the goroutines that serve no request (compactIndex) carries a span. */
  public static void untracedWorkCarriesNoSpan(TracedRun run, int atLeast) {
    List<ProfiledSample> spinning = run.samplesIn("main.compactIndex");
    Figures.atLeast("main.compactIndex samples", spinning.size(), atLeast);
    assertThat(spinning).allSatisfy(s -> assertThat(s.context()).as("context of a compactIndex sample").isEmpty());
  }
}
