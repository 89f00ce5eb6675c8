package dev.braid.profiler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.TracesContextMap;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The sampler as a reader of traces_ctx_v1 that this test writes itself. */
@Tag("kernel")
class SamplerTest {
  @Test
  void everySampleCarriesTheEntryOfItsThreadAtSampleTime() throws Exception {
    Kernel.requireBpf();
    List<StackSample> samples = new ArrayList<>();
    try (PinRoot pins = PinRoot.create();
        ExampleService shop = ExampleService.start(Examples.binary("shop"), "-addr", "127.0.0.1:0", "-spinners", "2");
        Sampler sampler = Sampler.start(pins.path(), 997, false, samples::add);
        BpfMap ctx = TracesContextMap.openPinned(pins.path()).orElseThrow()) {
      // Phase 1: every thread of the shop has a context of its own, derived from its tid.
      Map<Integer, TraceContext> written = new HashMap<>();
      for (int tid : threads(shop.pid())) {
        TraceContext c = new TraceContext("%032x".formatted(tid), "%016x".formatted(tid + 1));
        ctx.update(TracesContextMap.key(shop.pid(), tid), c.toBytes());
        written.put(tid, c);
      }
      sampler.addProcess(shop.pid()); // only now: every sample of phase 1 must see the entries
      assertThat(Sampling.until(sampler, samples, all -> all.size() >= 100)).as("100 samples within %s", Sampling.LIMIT).isTrue();
      // Phase 2: no thread has one.
      long clearing = System.nanoTime(); // CLOCK_MONOTONIC, the clock of the samples' times
      for (int tid : written.keySet()) {
        ctx.delete(TracesContextMap.key(shop.pid(), tid));
      }
      long cleared = System.nanoTime();
      assertThat(Sampling.until(sampler, samples, all -> all.stream().filter(s -> s.monotonicNanos() > cleared).count() >= 100))
          .as("100 samples after the entries were deleted, within %s", Sampling.LIMIT).isTrue();
      sampler.detach();
      sampler.drain();

      List<StackSample> before = samples.stream().filter(s -> s.monotonicNanos() < clearing).toList();
      List<StackSample> after = samples.stream().filter(s -> s.monotonicNanos() > cleared).toList();
      Figures.record("samples with entries", before.size(), ">= 100, sampled until then");
      Figures.record("samples without", after.size(), ">= 100, sampled until then");
      assertThat(samples).allSatisfy(s -> assertThat(s.pid()).isEqualTo(shop.pid()));
      // Threads the runtime started after phase 1 began have no entry, like any thread without one.
      for (StackSample s : before) {
        assertThat(s.context()).as("tid %d in phase 1", s.tid()).isEqualTo(Optional.ofNullable(written.get(s.tid())));
      }
      assertThat(before).anySatisfy(s -> assertThat(s.context()).isPresent());
      assertThat(after).allSatisfy(s -> assertThat(s.context()).as("tid %d in phase 2", s.tid()).isEmpty());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-pie", "shop-stripped"})
  void samplesOfABusyGoroutineSymbolizeToItsFunction(String binary) throws Exception {
    Kernel.requireBpf();
    List<StackSample> samples = new ArrayList<>();
    try (PinRoot pins = PinRoot.create();
        ExampleService shop = ExampleService.start(Examples.binary(binary), "-addr", "127.0.0.1:0", "-spinners", "1");
        Sampler sampler = Sampler.start(pins.path(), 499, false, samples::add);
        Symbolizer symbolizer = new Symbolizer()) {
      sampler.addProcess(shop.pid());
      List<List<Location>> stacks = new ArrayList<>();
      Predicate<List<Location>> inSpinner = st -> st.stream().flatMap(l -> l.lines().stream()).anyMatch(l -> l.function().equals("main.compactIndex"));
      // The goroutine spins all the time: sampled until 100 of its samples came.
      boolean enough = Sampling.until(sampler, samples, all -> {
        all.subList(stacks.size(), all.size()).forEach(s -> stacks.add(symbolizer.symbolize(s)));
        return stacks.stream().filter(inSpinner).count() >= 100;
      });
      assertThat(enough).as("100 samples in main.compactIndex within %s (of %d)", Sampling.LIMIT, stacks.size()).isTrue();
      sampler.detach();
      Location frame =
          stacks.stream()
              .flatMap(List::stream)
              .filter(l -> l.lines().stream().anyMatch(line -> line.function().equals("main.compactIndex")))
              .findFirst()
              .orElseThrow();
      Line line = frame.lines().stream().filter(l -> l.function().equals("main.compactIndex")).findFirst().orElseThrow();
      assertThat(line.file()).endsWith("examples/shop/main.go");
      assertThat(frame.mapping().path()).isEqualTo(Examples.binary(binary).toRealPath().toString());
      // The line lies inside compactIndex's body in the source.
      List<String> source = Files.readAllLines(Path.of(line.file()));
      int declared = source.indexOf("func compactIndex(seed uint64) {") + 1;
      assertThat(line.line()).isBetween((long) declared, (long) declared + 4);
      assertThat(frame.mapping().buildId()).isNotEmpty();
      // Every stack ends in the Go runtime's goroutine entry.
      assertThat(stacks).allSatisfy(st -> assertThat(st).isNotEmpty());
    }
  }

  private static List<Integer> threads(int pid) throws IOException {
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Integer.toString(pid), "task"))) {
      return tasks.map(p -> Integer.parseInt(p.getFileName().toString())).toList();
    }
  }
}
