package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.TracesContextMap;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.bpf.testing.Wait;
import dev.braid.examples.Examples;
import dev.braid.profiler.Location;
import dev.braid.profiler.Sampler;
import dev.braid.profiler.StackSample;
import dev.braid.profiler.Symbolizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The reference writer judges a reader: braid's sampler, reading the pin it fills, stamps every
 * sample in main.workN with worker N's known context, and samples in main.work4 with none.
 */
@Tag("kernel")
class ReferenceWriterTest {
  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void braidsSamplerStampsEachWorkersSamplesWithItsKnownContext() throws Exception {
    List<StackSample> samples = new ArrayList<>();
    Map<Integer, List<Optional<TraceContext>>> stampsByWorker = new HashMap<>();
    int pid;
    try (PinRoot pins = PinRoot.create()) {
      try (ReferenceWriter writer = ReferenceWriter.start(Examples.binary("pinned"), pins.path());
          Sampler sampler = Sampler.start(pins.path(), 499, false, samples::add);
          Symbolizer symbolizer = new Symbolizer()) {
        pid = writer.pid();
        assertThat(writer.workers()).extracting(ReferenceWriter.Worker::function).containsExactly("main.work1", "main.work2", "main.work3", "main.work4");
        sampler.addProcess(pid);
        // Sampled until every worker has 50 samples (how soon depends on the machine).
        int[] symbolized = {0};
        boolean enough = Wait.until(Duration.ofMinutes(1), Duration.ofMillis(100), () -> {
          sampler.drain();
          for (StackSample s : samples.subList(symbolized[0], samples.size())) {
            worker(symbolizer.symbolize(s)).ifPresent(n -> stampsByWorker.computeIfAbsent(n, k -> new ArrayList<>()).add(s.context()));
          }
          symbolized[0] = samples.size();
          return stampsByWorker.size() == 4 && stampsByWorker.values().stream().allMatch(stamps -> stamps.size() >= 50);
        });
        assertThat(enough).as("50 samples of each worker within a minute: %s", stampsByWorker.keySet()).isTrue();
        sampler.detach();
      }
      try (BpfMap map = TracesContextMap.openPinned(pins.path()).orElseThrow()) {
        assertThat(map.keys()).as("entries the reference writer left").noneMatch(k -> TracesContextMap.keyValue(k) >>> 32 == pid);
      }
    }
    assertThat(stampsByWorker).containsOnlyKeys(1, 2, 3, 4);
    stampsByWorker.forEach((n, stamps) -> {
      Figures.atLeast("samples of worker " + n, stamps.size(), 50);
      assertThat(stamps).as("contexts of worker %d's samples", n).containsOnly(ReferenceWriter.contextOf(n));
    });
  }

  /** Which worker's function the stack is in, if any. */
  private static Optional<Integer> worker(List<Location> stack) {
    return stack.stream().flatMap(l -> l.lines().stream()).map(line -> line.function())
        .filter(f -> f.matches("main\\.work[1-4]")).findFirst().map(f -> f.charAt(f.length() - 1) - '0');
  }
}
