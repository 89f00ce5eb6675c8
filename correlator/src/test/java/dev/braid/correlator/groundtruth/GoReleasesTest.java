package dev.braid.correlator.groundtruth;

import dev.braid.bpf.testing.Kernel;
import dev.braid.examples.GoBuild;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The attribution test for every Go release braid covers, built the default way (cgo, not PIE,
 * with DWARF) and the opposite way (pure Go, PIE, stripped: offsets from the table).
 */
@Tag("kernel")
class GoReleasesTest {
  static Stream<Arguments> builds() {
    return GoBuilds.covered().stream()
        .flatMap(r -> Stream.of(Arguments.of(r, GoBuild.DEFAULT), Arguments.of(r, GoBuild.STRIPPED_PIE_PURE)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("builds")
  void spansAndSamplesAreExact(GoRelease release, GoBuild build) {
    Kernel.requireBpf();
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(GoBuilds.binary("shop", release, build), "-spinners", "1")),
            new TracedRun.Load("shop", "/checkout?ms=4,/search?ms=4", Duration.ofSeconds(5), 2),
            UnaryOperator.identity());
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/checkout", "main.priceCart", 0.99, 100);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/search", "main.rankResults", 0.99, 100);
    Attribution.untracedWorkCarriesNoSpan(run, 100);
  }
}
