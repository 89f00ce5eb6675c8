package dev.braid.profiler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Commands;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
  /** Where x86-64 kernels map their text (any kernel address serves as a frame above the user PC). */
  private static final long KERNEL_TEXT = 0xffffffff81000000L;

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  /** A sample and its user frames, leaf first. */
  record Sampled(StackSample sample, List<Location> stack) {
    Location leaf() {
      return stack.getFirst();
    }
  }

  /**
   * Samples {@code native -mode MODE} until {@code enough} holds of its symbolized samples (at
   * most {@link Sampling#LIMIT}): how the samples spread over a loop's instructions depends on the
   * CPU's skid, so each test waits for the samples it needs instead of for a share of them.
   */
  private static List<Sampled> userStacks(String mode, Predicate<List<Sampled>> enough) throws Exception {
    List<StackSample> samples = new ArrayList<>();
    List<Sampled> stacks = new ArrayList<>();
    try (PinRoot pins = PinRoot.create();
        ExampleService p = ExampleService.startUntil(NATIVE, "running", "-mode", mode);
        Sampler sampler = Sampler.start(pins.path(), 499, false, samples::add);
        Symbolizer symbolizer = new Symbolizer()) {
      sampler.addProcess(p.pid());
      boolean done = Sampling.until(sampler, samples, all -> {
        for (StackSample s : all.subList(stacks.size(), all.size())) {
          stacks.add(new Sampled(s, symbolizer.symbolize(s).stream().filter(l -> l.kind() != Location.Kind.KERNEL).toList()));
        }
        return enough.test(stacks);
      });
      assertThat(done).as("enough samples of native -mode %s within %s (%d taken)", mode, Sampling.LIMIT, stacks.size()).isTrue();
      Figures.record("samples of native -mode " + mode, stacks.size(), "until enough");
      return stacks;
    }
  }

  private static List<String> functions(List<Location> stack) {
    return stack.stream().map(l -> l.lines().isEmpty() ? "?" : l.lines().getLast().function()).toList();
  }

  private static String buildId(Path file) {
    String notes = Commands.run(List.of("readelf", "-n", file.toString()));
    return notes.lines().filter(l -> l.contains("Build ID:")).findFirst().orElseThrow().split("Build ID:")[1].strip();
  }

  /** Whether the sample's leaf lies in {@code symbol} of the (non-PIE) native binary, by its ELF symbol's bounds ({@code nm -S}). */
  private static Predicate<Sampled> leafIn(String symbol) {
    String[] nm = Commands.run(List.of("nm", "-S", NATIVE.toString())).lines().filter(l -> l.endsWith(" " + symbol)).findFirst()
        .orElseThrow(() -> new AssertionError(symbol + " is not in nm's list of " + NATIVE)).split(" ");
    long start = Long.parseUnsignedLong(nm[0], 16);
    long end = start + Long.parseUnsignedLong(nm[1], 16);
    return s -> !s.stack().isEmpty() && s.leaf().address() >= start && s.leaf().address() < end;
  }

  /** Names and lines of a location, as {@link DwarfPeer} gives them (without files). */
  private static List<Line> withoutFiles(Location l) {
    return l.lines().stream().map(line -> new Line(line.function(), "", line.line())).toList();
  }

  /**
   * Every sample in inlineLoop is symbolized as the compiler's DWARF describes its address: where
   * the address lies in the range of the inlined mixInlined, two lines (mixInlined at its line,
   * inlineLoop at the call); on the loop's own instructions, inlineLoop alone. Both kinds occur.
   */
  @Test
  void goCodeInlinedIntoItsCallerIsOneLocationWithBothFunctions() throws Exception {
    DwarfPeer dwarf = new DwarfPeer(NATIVE);
    Predicate<Sampled> inLoop = leafIn("main.inlineLoop");
    Predicate<Sampled> inlined = s -> dwarf.frames(s.leaf().address()).size() > 1;
    List<Sampled> stacks = userStacks("inline", all -> {
      List<Sampled> loop = all.stream().filter(inLoop).toList();
      return loop.stream().filter(inlined).count() >= 20 && loop.stream().filter(inlined.negate()).count() >= 20;
    });
    List<Sampled> inLoopSamples = stacks.stream().filter(inLoop).toList();
    Figures.record("samples on mixInlined's instructions", inLoopSamples.stream().filter(inlined).count(), ">= 20");
    Figures.record("samples on inlineLoop's own instructions", inLoopSamples.stream().filter(inlined.negate()).count(), ">= 20");
    Path sourceFile = Path.of(inLoopSamples.getFirst().leaf().lines().getFirst().file());
    assertThat(sourceFile.toString()).endsWith("examples/native/main.go");
    List<String> source = Files.readAllLines(sourceFile);
    int callSite = source.indexOf("\t\tx = mixInlined(x)") + 1;
    int closure = source.indexOf("\t\twork = func() uint64 { return inlineLoop(100_000_000) }") + 1;
    for (Sampled s : inLoopSamples) {
      Location leaf = s.leaf();
      List<Line> truth = dwarf.frames(leaf.address());
      assertThat(leaf.kind()).isEqualTo(Location.Kind.GO);
      assertThat(withoutFiles(leaf)).as("lines at 0x%x (%d kernel frames above)", leaf.address(), s.sample().kernelStack().length).isEqualTo(truth);
      assertThat(leaf.lines()).allSatisfy(l -> assertThat(l.file()).isEqualTo(sourceFile.toString()));
      if (truth.size() > 1) {
        assertThat(truth).extracting(Line::function).containsExactly("main.mixInlined", "main.inlineLoop");
        assertThat(truth.getLast().line()).isEqualTo(callSite);
      }
      // inlineLoop has no frame of its own: its caller comes from the word at the stack pointer.
      assertThat(functions(s.stack())).containsExactly("main.inlineLoop", "main.main.func1", "main.main", "runtime.main", "runtime.goexit");
      assertThat(s.stack().get(1).lines().getFirst().line()).isEqualTo(closure);
      assertThat(s.stack()).allSatisfy(l -> {
        assertThat(l.mapping().path()).isEqualTo(NATIVE.toRealPath().toString());
        assertThat(l.mapping().buildId()).isEqualTo(buildId(NATIVE));
      });
    }
  }

  /**
   * A sample taken in the kernel (an interrupt, a fault) has for its first user frame the PC the
   * thread stopped at: exact, not a return address. At every instruction of inlineLoop, a stack
   * with kernel frames above it gives the lines that DWARF gives for that address.
   */
  @Test
  void theUserPcOfASampleTakenInTheKernelIsSymbolizedExactly() throws Exception {
    DwarfPeer dwarf = new DwarfPeer(NATIVE);
    List<Long> instructions = Commands.run(List.of("go", "tool", "objdump", "-s", "^main.inlineLoop$", NATIVE.toString())).lines()
        .map(l -> l.strip().split("\\s+")).filter(f -> f.length > 2 && f[1].startsWith("0x")).map(f -> Long.decode(f[1])).toList();
    assertThat(instructions).hasSizeGreaterThan(10);
    try (ExampleService p = ExampleService.startUntil(NATIVE, "running", "-mode", "inline");
        Symbolizer symbolizer = new Symbolizer()) {
      for (long pc : instructions) {
        StackSample inKernel = new StackSample(p.pid(), p.pid(), 0, 0, "native", java.util.Optional.empty(), new long[] {pc}, new long[] {KERNEL_TEXT}, 0);
        Location user = symbolizer.symbolize(inKernel).getLast();
        assertThat(withoutFiles(user)).as("lines at 0x%x below kernel frames", pc).isEqualTo(dwarf.frames(pc));
      }
    }
  }

  /**
   * A sample taken in a system call has for its first user frame the address after the SYSCALL
   * instruction (where the thread returns to): that PC is symbolized as the SYSCALL's line, not the
   * next one. The kernel frame above it is the system call entry, from /proc/kallsyms.
   */
  @Test
  void theUserPcOfASampleTakenInASystemCallIsTheSyscallInstruction() throws Exception {
    DwarfPeer dwarf = new DwarfPeer(NATIVE);
    String[] syscall = Commands.run(List.of("go", "tool", "objdump", "-s", "Syscall6$", NATIVE.toString())).lines()
        .map(l -> l.strip().split("\\s+")).filter(f -> f.length > 3 && f[3].equals("SYSCALL")).findFirst()
        .orElseThrow(() -> new AssertionError("no SYSCALL instruction in a Syscall6 of " + NATIVE));
    long syscallAt = Long.decode(syscall[1]);
    long returnsTo = syscallAt + syscall[2].length() / 2; // the instruction's bytes, in hex
    long entry = Files.readAllLines(Path.of("/proc/kallsyms")).stream().map(l -> l.split(" "))
        .filter(f -> f[2].equals("entry_SYSCALL_64_after_hwframe")).map(f -> Long.parseUnsignedLong(f[0], 16)).findFirst().orElseThrow();
    assertThat(dwarf.frames(returnsTo)).as("the line after the SYSCALL differs from its own").isNotEqualTo(dwarf.frames(syscallAt));
    try (ExampleService p = ExampleService.startUntil(NATIVE, "running", "-mode", "inline");
        Symbolizer symbolizer = new Symbolizer()) {
      StackSample inSyscall = new StackSample(p.pid(), p.pid(), 0, 0, "native", java.util.Optional.empty(), new long[] {returnsTo}, new long[] {entry + 1}, 0);
      List<Location> stack = symbolizer.symbolize(inSyscall);
      assertThat(stack.getFirst().lines()).extracting(Line::function).containsExactly("entry_SYSCALL_64_after_hwframe");
      assertThat(withoutFiles(stack.getLast())).isEqualTo(dwarf.frames(syscallAt));
    }
  }

  /**
   * A Go stack ends at its root, as Go's own traceback does: a thread the runtime started without
   * cgo keeps its creator's frame pointer, so frames a walk finds past runtime.mstart are stale
   * ones of another goroutine (seen on stripped pure-Go gRPC services: sysmon's samples ran on
   * into a handler's frames), and nothing calls runtime.goexit.
   */
  @Test
  void aGoStackEndsAtItsRoot() throws Exception {
    Map<String, Long> at = new HashMap<>();
    for (String line : Commands.run(List.of("go", "tool", "nm", NATIVE.toString())).lines().toList()) {
      String[] f = line.strip().split("\\s+");
      String name = f.length == 3 ? f[2].replaceFirst("\\.abi0$", "") : ""; // assembly functions' symbols end in .abi0
      if (List.of("runtime.usleep", "runtime.sysmon", "runtime.mstart", "runtime.goexit", "main.inlineLoop").contains(name)) {
        at.put(name, Long.parseUnsignedLong(f[0], 16));
      }
    }
    try (ExampleService p = ExampleService.startUntil(NATIVE, "running", "-mode", "inline");
        Symbolizer symbolizer = new Symbolizer()) {
      // Callers' PCs are return addresses: one past a CALL.
      long[] sysmon = {at.get("runtime.usleep"), at.get("runtime.sysmon") + 1, at.get("runtime.mstart") + 1, at.get("main.inlineLoop") + 1};
      assertThat(symbolizer.symbolize(new StackSample(p.pid(), p.pid() + 1, 0, 0, "native", java.util.Optional.empty(), sysmon, new long[0], 0)))
          .extracting(l -> l.lines().getLast().function()).containsExactly("runtime.usleep", "runtime.sysmon", "runtime.mstart");
      long[] goroutine = {at.get("main.inlineLoop"), at.get("runtime.goexit") + 1, at.get("runtime.sysmon") + 1};
      assertThat(symbolizer.symbolize(new StackSample(p.pid(), p.pid(), 0, 0, "native", java.util.Optional.empty(), goroutine, new long[0], 0)))
          .extracting(l -> l.lines().getLast().function()).containsExactly("main.inlineLoop", "runtime.goexit");
    }
  }

  /** Every sample in burn_in_c (by its ELF symbol's bounds) is that native frame under the Go callers of the cgo call. */
  @Test
  void cCodeCalledThroughCgoIsANativeFrameUnderTheGoCallers() throws Exception {
    DwarfPeer dwarf = new DwarfPeer(NATIVE);
    Predicate<Sampled> inC = leafIn("burn_in_c");
    List<Sampled> stacks = userStacks("cgo", all -> all.stream().filter(inC).count() >= 100);
    for (Sampled s : stacks.stream().filter(inC).toList()) {
      assertThat(s.leaf().kind()).isEqualTo(Location.Kind.NATIVE);
      assertThat(s.leaf().mapping().path()).isEqualTo(NATIVE.toRealPath().toString());
      assertThat(s.leaf().lines()).extracting(Line::function).isEqualTo(dwarf.frames(s.leaf().address()).stream().map(Line::function).toList());
      assertThat(functions(s.stack()))
          .containsExactly(
              "burn_in_c", "runtime.asmcgocall", "runtime.cgocall", "main._Cfunc_burn_in_c", "main.cgoLoop", "main.main", "runtime.main",
              "runtime.goexit");
      assertThat(s.stack().subList(1, s.stack().size())).allSatisfy(l -> assertThat(l.kind()).isEqualTo(Location.Kind.GO));
    }
  }

  /**
   * Every sample in libc is random_r (the example's loop calls no other libc function), named from
   * libc's dynamic symbols, with libc's path and build id.
   */
  @Test
  void aCLibraryFunctionIsNamedFromItsDynamicSymbolsWithItsFileAndBuildId() throws Exception {
    Predicate<Sampled> inLibc = s -> !s.stack().isEmpty() && s.leaf().mapping().path().contains("libc.so");
    List<Sampled> stacks = userStacks("libc", all -> all.stream().filter(inLibc).count() >= 100);
    List<Sampled> libcSamples = stacks.stream().filter(inLibc).toList();
    Path libc = Path.of(libcSamples.getFirst().leaf().mapping().path());
    for (Sampled s : libcSamples) {
      Location leaf = s.leaf();
      List<String> functions = functions(s.stack());
      assertThat(leaf.kind()).isEqualTo(Location.Kind.NATIVE);
      assertThat(leaf.lines()).extracting(Line::function).containsExactly("random_r");
      assertThat(leaf.mapping().buildId()).isEqualTo(buildId(libc));
      // random_r sets up no frame pointer, so the walk misses its caller (draw_with_libc) and goes
      // on from cgo's wrapper: a limit of frame-pointer unwinding through C code.
      assertThat(functions.subList(1, functions.size()))
          .containsExactly(
              functions.get(1), "runtime.asmcgocall", "runtime.cgocall", "main._Cfunc_draw_with_libc", "main.libcLoop", "main.main.func2",
              "main.main", "runtime.main", "runtime.goexit");
      assertThat(functions.get(1)).matches("_cgo_[0-9a-f]+_Cfunc_draw_with_libc");
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
      assertThat(Sampling.until(sampler, samples, all -> all.stream().anyMatch(s -> s.pid() == a.pid()) && all.stream().anyMatch(s -> s.pid() == b.pid())))
          .as("samples of both processes within %s", Sampling.LIMIT).isTrue();
      sampler.detach();
      List<List<Location>> stacks = samples.stream().map(symbolizer::symbolize).toList();
      assertThat(stacks).flatMap(st -> st).filteredOn(l -> l.kind() == Location.Kind.GO)
          .extracting(l -> l.mapping().path())
          .contains(NATIVE.toRealPath().toString(), copy.toRealPath().toString());
      assertThat(symbolizer.binariesRead()).as("binaries read").containsOnlyOnce("build-id:" + buildId(NATIVE));
    }
  }
}
