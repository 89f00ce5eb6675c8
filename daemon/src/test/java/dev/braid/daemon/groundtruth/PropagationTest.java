package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.CompletedSpan;
import dev.braid.examples.Examples;
import io.opentelemetry.api.trace.SpanKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import dev.braid.daemon.DaemonConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Two services chained over HTTP, braid with --propagate: one trace through both. */
@Tag("kernel")
class PropagationTest {
  @ParameterizedTest(name = "--ctx-source {0}")
  @EnumSource(DaemonConfig.ContextSource.class)
  void serverClientServerIsOneTraceWithTheRightParents(DaemonConfig.ContextSource source) {
    Kernel.requireBpf();
    TracedRun.Service frontend = TracedRun.Service.shop(Examples.binary("shop")).named("frontend");
    TracedRun.Service backend = TracedRun.Service.shop(Examples.binary("shop")).named("backend");
    TracedRun run =
        TracedRun.run(
            List.of(frontend, backend),
            new TracedRun.Load("frontend", "/chain?ms=2&to={{backend}}/checkout", Duration.ofSeconds(4), 2)
                .until(Goal.samplesIn("main.priceCart", 10).and(Goal.serverSpans("/chain", 50))),
            config -> config.withPropagation(true).withContextSource(source));
    Figures.atLeast("requests sent", run.sent().size(), 50);
    Map<String, List<CompletedSpan>> byTrace = run.spans().stream().collect(Collectors.groupingBy(s -> s.context().traceId()));
    for (var sent : run.sent()) {
      String traceId = sent.get("trace_id").asText();
      List<CompletedSpan> trace = byTrace.get(traceId);
      assertThat(trace).as("spans of trace %s", traceId).hasSize(3);
      CompletedSpan entry = only(trace, SpanKind.SERVER, run.pid("frontend"));
      CompletedSpan call = only(trace, SpanKind.CLIENT, run.pid("frontend"));
      CompletedSpan served = only(trace, SpanKind.SERVER, run.pid("backend"));
      assertThat(entry.parentSpanId()).isEqualTo(sent.get("parent_span_id").asText());
      assertThat(call.parentSpanId()).isEqualTo(entry.context().spanId());
      assertThat(served.parentSpanId()).as("the backend continues the client span").isEqualTo(call.context().spanId());
      assertThat(served.startEpochNanos()).isBetween(call.startEpochNanos(), call.endEpochNanos());
    }
    // The backend's CPU in the chained request is attributed to the backend's span of that trace.
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/checkout", "main.priceCart", 10);
    if (source == DaemonConfig.ContextSource.SAMPLE) {
      // The switch probes that --propagate needs follow the writer goroutines, and leave the map alone.
      assertThat(run.entriesDuringLoad()).as("traces_ctx_v1 entries with --ctx-source sample").isZero();
    }
  }

  private static CompletedSpan only(List<CompletedSpan> trace, SpanKind kind, int pid) {
    List<CompletedSpan> found = trace.stream().filter(s -> s.kind() == kind && s.process().pid() == pid).toList();
    assertThat(found).as("%s spans of pid %d", kind, pid).hasSize(1);
    return found.getFirst();
  }
}
