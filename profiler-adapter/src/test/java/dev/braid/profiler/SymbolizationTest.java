package dev.braid.profiler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Commands;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stacks of examples/native, frame by frame, against what the compilers made: Go code inlined
 * into its caller, C code called through cgo, a function of the C library; build ids as readelf
 * reads them.
 */
@Tag("kernel")
class SymbolizationTest {
  private static final Path NATIVE = Examples.binary("native");

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  /** The user frames of the samples of {@code native -mode MODE}, each stack leaf first. */
  private static List<List<Location>> userStacks(String mode) throws Exception {
    List<StackSample> samples = new ArrayList<>();
    try (PinRoot pins = PinRoot.create();
        ExampleService p = ExampleService.startUntil(NATIVE, "running", "-mode", mode);
        Sampler sampler = Sampler.start(pins.path(), 499, false, samples::add);
        Symbolizer symbolizer = new Symbolizer()) {
      sampler.addProcess(p.pid());
      Thread.sleep(1500);
      sampler.detach();
      sampler.drain();
      return samples.stream().map(s -> symbolizer.symbolize(s).stream().filter(l -> l.kind() != Location.Kind.KERNEL).toList()).toList();
    }
  }

  private static List<String> functions(List<Location> stack) {
    return stack.stream().map(l -> l.lines().isEmpty() ? "?" : l.lines().getLast().function()).toList();
  }

  private static String buildId(Path file) {
    String notes = Commands.run(List.of("readelf", "-n", file.toString()));
    return notes.lines().filter(l -> l.contains("Build ID:")).findFirst().orElseThrow().split("Build ID:")[1].strip();
  }

  private static List<List<Location>> withLeaf(List<List<Location>> stacks, Predicate<Location> leaf) {
    return stacks.stream().filter(st -> !st.isEmpty() && leaf.test(st.getFirst())).toList();
  }

  @Test
  void goCodeInlinedIntoItsCallerIsOneLocationWithBothFunctions() throws Exception {
    List<List<Location>> stacks = userStacks("inline");
    List<List<Location>> inMix = withLeaf(stacks, l -> l.lines().getFirst().function().equals("main.mixInlined"));
    assertThat(inMix.size()).as("samples in the inlined function").isGreaterThan(stacks.size() * 9 / 10);
    List<String> source = Files.readAllLines(Path.of(inMix.getFirst().getFirst().lines().getFirst().file()));
    int mixBody = source.indexOf("func mixInlined(x uint64) uint64 {") + 2;
    int callSite = source.indexOf("\t\tx = mixInlined(x)") + 1;
    int closure = source.indexOf("\t\twork = func() uint64 { return inlineLoop(100_000_000) }") + 1;
    for (List<Location> stack : inMix) {
      Location leaf = stack.getFirst();
      assertThat(leaf.kind()).isEqualTo(Location.Kind.GO);
      assertThat(leaf.lines()).extracting(Line::function).containsExactly("main.mixInlined", "main.inlineLoop");
      assertThat(leaf.lines().get(0).line()).isBetween((long) mixBody, (long) mixBody + 2);
      assertThat(leaf.lines().get(1).line()).isEqualTo(callSite);
      assertThat(leaf.lines().get(0).file()).endsWith("examples/native/main.go");
      // inlineLoop has no frame of its own: its caller comes from the word at the stack pointer.
      assertThat(functions(stack)).containsExactly("main.inlineLoop", "main.main.func1", "main.main", "runtime.main", "runtime.goexit");
      assertThat(stack.get(1).lines().getFirst().line()).isEqualTo(closure);
      assertThat(stack).allSatisfy(l -> {
        assertThat(l.mapping().path()).isEqualTo(NATIVE.toRealPath().toString());
        assertThat(l.mapping().buildId()).isEqualTo(buildId(NATIVE));
      });
    }
  }

  @Test
  void cCodeCalledThroughCgoIsANativeFrameUnderTheGoCallers() throws Exception {
    List<List<Location>> stacks = userStacks("cgo");
    List<List<Location>> inC = withLeaf(stacks, l -> !l.lines().isEmpty() && l.lines().getFirst().function().equals("burn_in_c"));
    assertThat(inC.size()).as("samples in the C function").isGreaterThan(stacks.size() * 9 / 10);
    for (List<Location> stack : inC) {
      assertThat(stack.getFirst().kind()).isEqualTo(Location.Kind.NATIVE);
      assertThat(stack.getFirst().mapping().path()).isEqualTo(NATIVE.toRealPath().toString());
      assertThat(functions(stack))
          .containsExactly(
              "burn_in_c", "runtime.asmcgocall", "runtime.cgocall", "main._Cfunc_burn_in_c", "main.cgoLoop", "main.main", "runtime.main",
              "runtime.goexit");
      assertThat(stack.subList(1, stack.size())).allSatisfy(l -> assertThat(l.kind()).isEqualTo(Location.Kind.GO));
    }
  }

  @Test
  void aCLibraryFunctionIsNamedFromItsDynamicSymbolsWithItsFileAndBuildId() throws Exception {
    List<List<Location>> stacks = userStacks("libc");
    List<List<Location>> inLibc = withLeaf(stacks, l -> l.mapping().path().contains("libc.so"));
    assertThat(inLibc.size()).as("samples in libc").isGreaterThan(stacks.size() / 10);
    Path libc = Path.of(inLibc.getFirst().getFirst().mapping().path());
    for (List<Location> stack : inLibc) {
      Location leaf = stack.getFirst();
      assertThat(leaf.kind()).isEqualTo(Location.Kind.NATIVE);
      assertThat(leaf.lines()).extracting(Line::function).containsExactly("random_r");
      assertThat(leaf.mapping().buildId()).isEqualTo(buildId(libc));
      // random_r sets up no frame pointer, so the walk misses its caller (draw_with_libc) and goes
      // on from cgo's wrapper: a limit of frame-pointer unwinding through C code.
      assertThat(functions(stack).subList(1, stack.size()))
          .containsExactly(
              functions(stack).get(1), "runtime.asmcgocall", "runtime.cgocall", "main._Cfunc_draw_with_libc", "main.libcLoop", "main.main.func2",
              "main.main", "runtime.main", "runtime.goexit");
      assertThat(functions(stack).get(1)).matches("_cgo_[0-9a-f]+_Cfunc_draw_with_libc");
    }
  }

  /** A binary copied to another file (another inode, the same build id) is read once. */
  @Test
  void copiesOfABinaryAreReadOnceByBuildId(@TempDir Path dir) throws Exception {
    Path copy = Files.copy(NATIVE, dir.resolve("native-copy"), StandardCopyOption.COPY_ATTRIBUTES);
    List<StackSample> samples = new ArrayList<>();
    try (PinRoot pins = PinRoot.create();
        ExampleService a = ExampleService.startUntil(NATIVE, "running", "-mode", "inline");
        ExampleService b = ExampleService.startUntil(copy, "running", "-mode", "inline");
        Sampler sampler = Sampler.start(pins.path(), 499, false, samples::add);
        Symbolizer symbolizer = new Symbolizer()) {
      sampler.addProcess(a.pid());
      sampler.addProcess(b.pid());
      Thread.sleep(1000);
      sampler.detach();
      sampler.drain();
      List<List<Location>> stacks = samples.stream().map(symbolizer::symbolize).toList();
      assertThat(samples).anyMatch(s -> s.pid() == a.pid()).anyMatch(s -> s.pid() == b.pid());
      assertThat(stacks).flatMap(st -> st).filteredOn(l -> l.kind() == Location.Kind.GO)
          .extracting(l -> l.mapping().path())
          .contains(NATIVE.toRealPath().toString(), copy.toRealPath().toString());
      assertThat(symbolizer.binariesRead()).as("binaries read").containsOnlyOnce("build-id:" + buildId(NATIVE));
    }
  }
}
