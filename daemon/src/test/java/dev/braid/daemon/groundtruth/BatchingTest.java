package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.daemon.DaemonConfig;
import dev.braid.examples.Examples;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A busy service's spans go out in bounded batches, long before the flush interval is over. */
@Tag("kernel")
class BatchingTest {
  @Test
  void spansGoOutInBatchesOfAtMostMaxBatchSpansAndNoneIsLost() throws Exception {
    Kernel.requireBpf();
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(Examples.binary("shop"))),
            // More than two batches' worth of requests, however long they take to send.
            new TracedRun.Load("shop", "/hello", Duration.ZERO, 4).requests(2 * DaemonConfig.MAX_BATCH_SPANS + 1000),
            config -> config.withFlushInterval(Duration.ofMinutes(5)));
    Figures.atLeast("requests sent", run.sent().size(), 2 * DaemonConfig.MAX_BATCH_SPANS + 1000);
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    // The interval never came: every batch but the last, at stop, was a full one.
    List<Integer> sizes = run.batches().stream().map(b -> b.spans().size()).filter(n -> n > 0).toList();
    assertThat(sizes).hasSizeGreaterThanOrEqualTo(3).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(DaemonConfig.MAX_BATCH_SPANS));
    assertThat(sizes.subList(0, sizes.size() - 1)).as("the early batches").allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(DaemonConfig.MAX_BATCH_SPANS));
    // The file has one OTLP request per batch.
    assertThat(Files.readAllLines(run.outputDir().resolve("traces.jsonl"))).hasSameSizeAs(sizes);
  }
}
