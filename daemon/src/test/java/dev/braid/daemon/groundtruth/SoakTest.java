package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The soak, for 3 minutes: nothing braid holds grows while it traces a loaded service and its collector comes and goes. */
@Tag("kernel")
class SoakTest {
  @Test
  void nothingGrowsInThreeMinutesWithACollectorThatComesAndGoes() throws Exception {
    Kernel.requireBpf();
    Soak.Result r = Soak.run(Duration.ofMinutes(3), 200, Path.of("target", "groundtruth", "soak"), System.err);
    for (Soak.Growth g : r.growths()) {
      String figure = g.limit().name() + " growth per hour, low end of the slope's 95% interval (" + g.limit().unit() + ")";
      if (g.judged()) {
        Figures.atMost(figure, Math.round(g.lowPerHour()), Math.round(g.limit().perHour()));
      } else {
        Figures.record(figure, Math.round(g.lowPerHour()), "reported only: judged in soaks of " + g.limit().judgedFrom().toMinutes() + " min or more");
      }
    }
    assertThat(r.collectorRestarts()).as("collector restarts").isPositive();
    assertThat(r.requests()).as("requests answered").isPositive();
    assertThat(r.failedRequests()).as("requests that failed").isZero();
    assertThat(r.passed()).as(r.growths().toString()).isTrue();
  }
}
