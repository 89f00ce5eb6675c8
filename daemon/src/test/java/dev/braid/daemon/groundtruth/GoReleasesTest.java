package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.CompletedSpan;
import dev.braid.daemon.DaemonConfig;
import dev.braid.examples.GoBuild;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The attribution test for every Go release braid covers, built the default way (cgo, not PIE,
 * with DWARF) and served over HTTP/1.1, and the opposite way (pure Go, PIE, stripped: offsets
 * from the table) and served over HTTPS with HTTP/2, with each context source: traces_ctx_v1 kept
 * by switch probes, and the goroutine found at sample time.
 */
@Tag("kernel")
class GoReleasesTest {
  static Stream<Arguments> builds() {
    return GoBuilds.covered().stream()
        .flatMap(r -> Stream.of(GoBuild.DEFAULT, GoBuild.STRIPPED_PIE_PURE).map(b -> Arguments.of(r, b)))
        .flatMap(a -> Stream.of(DaemonConfig.ContextSource.values()).map(c -> Arguments.of(a.get()[0], a.get()[1], c)));
  }

  @ParameterizedTest(name = "{0} {1} --ctx-source {2}")
  @MethodSource("builds")
  void spansAndSamplesAreExact(GoRelease release, GoBuild build, DaemonConfig.ContextSource source) {
    Kernel.requireBpf();
    boolean http2 = build == GoBuild.STRIPPED_PIE_PURE;
    TracedRun.Service shop = TracedRun.Service.shop(GoBuilds.binary("shop", release, build), "-spinners", "1");
    TracedRun.Load load =
        new TracedRun.Load("shop", "/checkout?ms=4,/dispatch?via=select,/search?ms=4,/receive?via=select", Duration.ofSeconds(2), 2, "X-Handed-From");
    TracedRun run =
        TracedRun.run(
            List.of(http2 ? shop.overTls() : shop),
            (http2 ? load.overHttp2() : load)
                .until(Goal.samplesIn("main.priceCart", 100).and(Goal.samplesIn("main.rankResults", 100))
                    .and(Goal.samplesIn("main.compactIndex", 100)).and(Goal.handOffs(50))
                    .and(source == DaemonConfig.ContextSource.SWITCH ? Goal.anEntrySeen() : Goal.NONE)),
            c -> c.withContextSource(source));
    assertThat(run.sent()).allSatisfy(r -> assertThat(r.get("proto").asText()).isEqualTo(http2 ? "HTTP/2.0" : "HTTP/1.1"));
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    assertThat(run.spans()).allSatisfy(s -> {
      assertThat(s.attributes().get(CompletedSpan.NETWORK_PROTOCOL_VERSION)).isEqualTo(http2 ? "2" : "1.1");
      assertThat(s.attributes().get(CompletedSpan.HTTP_RESPONSE_STATUS_CODE)).isEqualTo(200);
      assertThat(s.status().getStatusCode()).isEqualTo(io.opentelemetry.api.trace.StatusCode.UNSET);
    });
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/checkout", "main.priceCart", 100);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/search", "main.rankResults", 100);
    Attribution.untracedWorkCarriesNoSpan(run, 100);
    ChannelLinksTest.exactPairs(run, 50);
    if (source == DaemonConfig.ContextSource.SAMPLE) {
      // No switch probes: braid keeps no traces_ctx_v1 then, the sampler found every context itself.
      assertThat(run.entriesDuringLoad()).as("traces_ctx_v1 entries during the load").isZero();
    } else {
      assertThat(run.entriesDuringLoad()).as("traces_ctx_v1 entries during the load").isPositive();
    }
  }
}
