package dev.braid.correlator.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.DaemonConfig;
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
 * with DWARF) and the opposite way (pure Go, PIE, stripped: offsets from the table), with each
 * context source: traces_ctx_v1 kept by switch probes, and the goroutine found at sample time.
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
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(GoBuilds.binary("shop", release, build), "-spinners", "1")),
            new TracedRun.Load("shop", "/checkout?ms=4,/dispatch?via=select,/search?ms=4,/receive?via=select", Duration.ofSeconds(5), 2, "X-Handed-From")
                .until(Goal.samplesIn("main.priceCart", 100).and(Goal.samplesIn("main.rankResults", 100))
                    .and(Goal.samplesIn("main.compactIndex", 100)).and(Goal.handOffs(50))
                    .and(source == DaemonConfig.ContextSource.SWITCH ? Goal.anEntrySeen() : Goal.NONE)),
            c -> c.withContextSource(source));
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
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
