package dev.braid.elf.go;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.braid.elf.ElfException;
import dev.braid.elf.ElfFile;
import dev.braid.elf.Section;
import dev.braid.elf.peers.GoToolchain;
import dev.braid.elf.peers.PeerPrograms;
import dev.braid.elf.peers.Peers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pclntab against go tool nm, addr2line and objdump on the examples' binaries. */
class PclntabTest {
  private static final Pattern OBJDUMP_LINE = Pattern.compile("^\\s+(\\S+):(\\d+)\\s+0x([0-9a-f]+)\\s+\\S+\\s+(.*)$");
  private static final GoToolchain GO = GoToolchain.primary();

  @TempDir Path tmp;

  /** One instruction as {@code go tool objdump} lists it: innermost file base name and line, pc, assembly. */
  record Instruction(String file, int line, long pc, String asm) {}

  static List<Instruction> objdump(Path binary, String function) {
    List<Instruction> out = new ArrayList<>();
    for (String line : GO.tool(null, "objdump", "-s", "^" + Pattern.quote(function) + "$", binary.toString())
        .split("\n")) {
      Matcher m = OBJDUMP_LINE.matcher(line);
      if (m.matches()) {
        out.add(new Instruction(m.group(1), Integer.parseInt(m.group(2)), Long.parseLong(m.group(3), 16),
            m.group(4).trim()));
      }
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-pie"})
  void functionsHaveTheAddressesGoToolNmGives(String example) {
    Path binary = Peers.example(example);
    Set<String> nm = new HashSet<>();
    for (String line : GO.tool(null, "nm", binary.toString()).split("\n")) {
      String[] f = line.trim().split("\\s+", 3);
      if (f.length == 3) {
        nm.add(f[2] + " " + f[0]);
      }
    }
    try (ElfFile elf = ElfFile.open(binary)) {
      List<GoFunction> functions = Pclntab.read(elf).functions();
      assertThat(functions).hasSizeGreaterThan(5000);
      // The ELF symbol table names assembly (ABI0) functions with a suffix the pclntab does not have, and spells
      // the pclntab's middle dot as '.' (cmd/link symtab.go).
      List<String> missing = functions.stream()
          .map(f -> f.name().replace('\u00b7', '.') + " " + Long.toHexString(f.entry()))
          .filter(f -> !nm.contains(f) && !nm.contains(f.replace(" ", ".abi0 ")))
          .toList();
      assertThat(missing).isEmpty();
    }
  }

  @Test
  void strippedBinaryHasTheSameFunctionsAsUnstripped() {
    try (ElfFile shop = ElfFile.open(Peers.example("shop"));
        ElfFile stripped = ElfFile.open(Peers.example("shop-stripped"))) {
      assertThat(stripped.section(".symtab")).isEmpty();
      Pclntab full = Pclntab.read(shop);
      Pclntab bare = Pclntab.read(stripped);
      assertThat(bare.functions()).isEqualTo(full.functions());
      assertThat(bare.textStart()).isEqualTo(full.textStart())
          .isEqualTo(shop.symbol("runtime.text").orElseThrow().value());
      assertThat(bare.hasInlineTrees()).isTrue();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-stripped", "shop-pie"})
  void functionAtFindsPriceCart(String example) {
    try (ElfFile elf = ElfFile.open(Peers.example(example))) {
      Pclntab pclntab = Pclntab.read(elf);
      GoFunction priceCart = pclntab.function("main.priceCart").orElseThrow();
      assertThat(pclntab.functionAt(priceCart.entry())).contains(priceCart);
      assertThat(pclntab.functionAt(priceCart.entry() + 5)).contains(priceCart);
      assertThat(pclntab.functionAt(priceCart.end() - 1)).contains(priceCart);
      assertThat(pclntab.functionAt(priceCart.end())).isNotEqualTo(java.util.Optional.of(priceCart));
      GoFunction last = pclntab.functions().getLast();
      assertThat(pclntab.functionAt(last.end())).isEmpty();
      assertThat(pclntab.functionAt(0x10)).isEmpty();
      assertThat(pclntab.frames(0x10)).isEmpty();
      assertThat(pclntab.function("main.noSuchFunction")).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-stripped", "shop-pie"})
  void positionsMatchGoToolAddr2line(String example) {
    Path binary = Peers.example(example);
    // Functions with DWARF are Go or assembly code; the others are cgo's C code (a stripped binary has its twin's).
    Set<Long> goCode = new HashSet<>();
    Path withDwarf = disassemblable(example);
    for (String line : Peers.run(List.of(PeerPrograms.dwarfpeer().toString(), withDwarf.toString(), "-subprograms"))
        .split("\n")) {
      goCode.add(Long.parseLong(line.substring("subprogram ".length()), 16));
    }
    try (ElfFile elf = ElfFile.open(binary)) {
      Pclntab pclntab = Pclntab.read(elf);
      List<Long> pcs = new ArrayList<>();
      for (GoFunction f : pclntab.functions()) {
        pcs.add(f.entry());
        pcs.add(f.entry() + (f.end() - f.entry()) / 2);
      }
      StringBuilder in = new StringBuilder();
      pcs.forEach(pc -> in.append(Long.toHexString(pc)).append('\n'));
      String[] out = GO.tool(in.toString(), "addr2line", binary.toString()).split("\n");
      assertThat(out).hasSize(2 * pcs.size());
      for (int i = 0; i < pcs.size(); i++) {
        long pc = pcs.get(i);
        List<GoFrame> frames = pclntab.frames(pc);
        GoFrame innermost = frames.getFirst();
        // Where the pc tables give no file (alignment padding, C code), addr2line prints an empty file and the raw
        // line value; braid, like the runtime's funcline1, says "?" and 0.
        String position = out[2 * i + 1].startsWith(":") ? "?:0" : out[2 * i + 1];
        assertThat(pclntab.functionAt(pc).orElseThrow().name()).as("function at %x", pc).isEqualTo(out[2 * i]);
        if (goCode.contains(pclntab.functionAt(pc).orElseThrow().entry())) {
          assertThat(innermost.file() + ":" + innermost.line()).as("position at %x", pc).isEqualTo(position);
        } else {
          // C functions have no pc tables (offset 0): the runtime says "?", while debug/gosym decodes the bytes at
          // pctab offset 0 as if they were a table and prints whatever comes out.
          assertThat(innermost.file() + ":" + innermost.line()).as("C function at %x", pc).isEqualTo("?:0");
        }
      }
    }
  }

  /** objdump needs symbols: a stripped binary is checked with the instructions of its unstripped twin. */
  private static Path disassemblable(String example) {
    return Peers.example(example.equals("shop-stripped") ? "shop" : example);
  }

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-stripped", "shop-pie"})
  void positionsMatchGoToolObjdumpAndInlinedPcsHaveCallers(String example) {
    try (ElfFile elf = ElfFile.open(Peers.example(example))) {
      Pclntab pclntab = Pclntab.read(elf);
      int inlined = 0;
      for (String function : List.of("main.main", "main.burnDuration", "main.spin")) {
        for (Instruction ins : objdump(disassemblable(example), function)) {
          List<GoFrame> frames = pclntab.frames(ins.pc());
          GoFrame innermost = frames.getFirst();
          assertThat(Path.of(innermost.file()).getFileName() + ":" + innermost.line())
              .as("%s at %x", function, ins.pc()).isEqualTo(ins.file() + ":" + ins.line());
          assertThat(frames.getLast()).extracting(GoFrame::function, GoFrame::inlined).containsExactly(function, false);
          assertThat(frames.subList(0, frames.size() - 1)).allMatch(GoFrame::inlined);
          // Code from another file inside a main function is there by inlining. Alignment NOPs the assembler adds
          // inherit the position but not the inline-tree index (the runtime reports them the same way).
          if (!ins.file().equals("main.go") && !ins.asm().startsWith("NOP")) {
            assertThat(frames).as("%s at %x", function, ins.pc()).hasSizeGreaterThan(1);
            assertThat(frames.getLast().file()).endsWith("/shop/main.go");
            inlined++;
          }
        }
      }
      assertThat(inlined).isGreaterThan(10);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-stripped", "shop-pie"})
  void inlinedChurnShowsTheCallSiteInPriceCart(String example) throws IOException {
    // churn's body is the lines between its signature and its closing brace; objdump tells which
    // of main.priceCart's instructions come from there (the compiler inlined churn into it).
    Path source = Path.of(System.getProperty("braid.examples.bin")).toAbsolutePath().getParent().getParent().resolve("shop/main.go");
    List<String> lines = Files.readAllLines(source);
    int churnLine = lines.indexOf("func churn(x uint64) uint64 {") + 1;
    int churnEnd = churnLine + lines.subList(churnLine, lines.size()).indexOf("}") + 1;
    int priceCartLine = lines.indexOf("func priceCart(d time.Duration) uint64 {") + 1;
    int callLine = priceCartLine + lines.subList(priceCartLine, lines.size()).indexOf("\t\tx = churn(x)") + 1;
    assertThat(churnLine).isPositive();
    List<Instruction> inChurn = objdump(disassemblable(example), "main.priceCart").stream()
        .filter(i -> i.line() > churnLine && i.line() < churnEnd).toList();
    assertThat(inChurn).isNotEmpty();
    try (ElfFile elf = ElfFile.open(Peers.example(example))) {
      Pclntab pclntab = Pclntab.read(elf);
      for (Instruction ins : inChurn) {
        assertThat(pclntab.frames(ins.pc()))
            .containsExactly(
                new GoFrame("main.churn", source.toString(), ins.line(), true),
                new GoFrame("main.priceCart", source.toString(), callLine, false));
      }
    }
  }

  @Test
  void compactIndexCallsSpinSoNoPcOfItHasInlinedFrames() {
    // The compiler does not inline spin (its loop and calls exceed the inlining budget): compactIndex CALLs it.
    Path shop = Peers.example("shop");
    List<Instruction> compactIndex = objdump(shop, "main.compactIndex");
    assertThat(compactIndex).extracting(Instruction::asm).anyMatch(a -> a.startsWith("CALL main.spin(SB)"));
    try (ElfFile elf = ElfFile.open(shop)) {
      Pclntab pclntab = Pclntab.read(elf);
      for (Instruction ins : compactIndex) {
        assertThat(pclntab.frames(ins.pc())).singleElement()
            .extracting(GoFrame::function, GoFrame::line).containsExactly("main.compactIndex", ins.line());
      }
      GoFunction spin = pclntab.function("main.spin").orElseThrow();
      assertThat(pclntab.frames(spin.entry())).extracting(GoFrame::function).containsExactly("main.spin");
    }
  }

  @Test
  void misplacedGoFuncDisablesInlineExpansionInsteadOfGivingWrongFrames() throws IOException {
    // As if braid misjudged moduledata's layout and read its neighbour field, rodata, as gofunc.
    Path stripped = Peers.example("shop-stripped");
    byte[] bytes = Files.readAllBytes(stripped);
    long churnPc;
    try (ElfFile elf = ElfFile.open(stripped)) {
      Section module = elf.section(".go.module").orElseThrow();
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      int gofunc = (int) module.offset() + PclnFormat.GO120.moduledataGofuncOffset;
      b.putLong(gofunc, b.getLong(gofunc - 8));
      Pclntab good = Pclntab.read(elf);
      GoFunction priceCart = good.function("main.priceCart").orElseThrow();
      churnPc = java.util.stream.LongStream.range(priceCart.entry(), priceCart.end())
          .filter(pc -> good.frames(pc).getFirst().function().equals("main.churn")).findFirst().orElseThrow();
    }
    Path patched = Files.write(tmp.resolve("bad-gofunc"), bytes);
    try (ElfFile elf = ElfFile.open(patched)) {
      Pclntab pclntab = Pclntab.read(elf);
      assertThat(pclntab.hasInlineTrees()).isFalse();
      assertThat(pclntab.frames(churnPc)).singleElement().extracting(GoFrame::function).isEqualTo("main.priceCart");
    }
  }

  @Test
  void framesAreTheSameFromManyThreads() throws Exception {
    try (ElfFile elf = ElfFile.open(Peers.example("shop-stripped"))) {
      List<Long> pcs = new ArrayList<>();
      Pclntab reference = Pclntab.read(elf);
      for (GoFunction f : reference.functions()) {
        for (long pc = f.entry(); pc < f.end(); pc += 13) {
          pcs.add(pc);
        }
      }
      List<List<GoFrame>> expected = pcs.stream().map(reference::frames).toList();
      Pclntab shared = Pclntab.read(elf);
      try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
        List<java.util.concurrent.Future<Boolean>> results = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          int offset = t * pcs.size() / 4;
          results.add(pool.submit(() -> {
            for (int k = 0; k < pcs.size(); k++) {
              int i = (k + offset) % pcs.size();
              if (!shared.frames(pcs.get(i)).equals(expected.get(i))) {
                return false;
              }
            }
            return true;
          }));
        }
        for (var r : results) {
          assertThat(r.get()).isTrue();
        }
      }
    }
  }

  @Test
  void nonGoBinaryIsRejectedClearly() {
    try (ElfFile elf = ElfFile.open(Path.of("/bin/true"))) {
      assertThatThrownBy(() -> Pclntab.read(elf))
          .isInstanceOfSatisfying(UnsupportedGoBinaryException.class,
              e -> assertThat(e.reason()).isEqualTo(UnsupportedGoBinaryException.Reason.NOT_GO))
          .hasMessage("/bin/true: not a Go binary: no .gopclntab section and no runtime.pclntab symbol");
    }
  }

  @Test
  void go116PclntabIsUnsupported() throws IOException {
    Path file = withPclntabWord("go116", 0, 0xfffffffa);
    try (ElfFile elf = ElfFile.open(file)) {
      assertThatThrownBy(() -> Pclntab.read(elf))
          .isInstanceOfSatisfying(UnsupportedGoBinaryException.class, e -> assertThat(e.reason())
              .isEqualTo(UnsupportedGoBinaryException.Reason.UNSUPPORTED_PCLNTAB_VERSION))
          .hasMessage(file + ": unsupported Go binary: pclntab magic 0xfffffffa is Go 1.16/1.17; braid reads Go 1.18 "
              + "and later");
    }
  }

  @Test
  void unknownPclntabMagicIsUnsupported() throws IOException {
    Path file = withPclntabWord("future", 0, 0xfffffff7);
    try (ElfFile elf = ElfFile.open(file)) {
      assertThatThrownBy(() -> Pclntab.read(elf)).isInstanceOf(UnsupportedGoBinaryException.class)
          .hasMessageContaining("unknown pclntab magic 0xfffffff7");
    }
  }

  @Test
  void corruptFunctionCountIsAnElfException() throws IOException {
    Path file = withPclntabWord("corrupt", 8, 0x7fffffff);
    try (ElfFile elf = ElfFile.open(file)) {
      assertThatThrownBy(() -> Pclntab.read(elf)).isExactlyInstanceOf(ElfException.class)
          .hasMessage(file + ": malformed pclntab: 2147483647 functions do not fit");
    }
  }

  private Path withPclntabWord(String name, int offset, int value) throws IOException {
    Path shop = Peers.example("shop-stripped");
    byte[] bytes = Files.readAllBytes(shop);
    try (ElfFile elf = ElfFile.open(shop)) {
      Section pclntab = elf.section(".gopclntab").orElseThrow();
      ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt((int) pclntab.offset() + offset, value);
    }
    return Files.write(tmp.resolve(name), bytes);
  }
}
