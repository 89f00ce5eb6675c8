package dev.braid.elf.go;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.elf.ElfException;
import dev.braid.elf.ElfFile;
import dev.braid.elf.Section;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing of every reader of untrusted binaries: ELF headers and sections, notes,
 * symbol tables, relocations, Go build info, pclntab with its inline trees, and DWARF. braid reads
 * whatever binary a traced process runs, as root; no input may make a reader throw anything but
 * {@link ElfException}, hang or allocate without bound.
 *
 * <p>Regression mode ({@code ./braid test}) runs the seeds, examples/pinned of every Go release in
 * examples/go-releases.txt with DWARF and as a stripped PIE, and every input kept under
 * {@code GoBinaryFuzzTestInputs/}; {@code ./braid fuzz} fuzzes.
 */
class GoBinaryFuzzTest {
  /** Bytes of one patch: region selector, offset in the region (u32), length, then that many bytes. */
  private static final int PATCH_HEADER = 6;

  /** What a patch overwrote, to be written back. */
  private record Undo(long offset, byte[] bytes) {}

  @AfterAll
  static void removeCopies() throws IOException {
    RealBinary.closeAll();
  }

  /**
   * A real Go binary with patches where braid's readers look: byte 0 picks the binary, then each
   * patch names a region (ELF header, section table, .gopclntab, .go.buildinfo, ...), an offset
   * in it and the bytes to write there. Every reader runs on the result.
   */
  @MethodSource("unpatchedBinaries")
  @FuzzTest(maxDuration = "10m")
  @Timeout(30)
  void patchedGoBinary(byte[] input) {
    List<RealBinary> bases = RealBinary.all();
    if (input.length == 0) {
      return;
    }
    RealBinary base = bases.get(Byte.toUnsignedInt(input[0]) % bases.size());
    List<Undo> undo = new ArrayList<>();
    Set<String> patched = new HashSet<>();
    ByteBuffer in = ByteBuffer.wrap(input, 1, input.length - 1).order(ByteOrder.LITTLE_ENDIAN);
    try {
      while (in.remaining() >= PATCH_HEADER) {
        RealBinary.Region region = base.regions().get(Byte.toUnsignedInt(in.get()) % base.regions().size());
        long offset = region.offset() + Integer.toUnsignedLong(in.getInt()) % region.size();
        int length = (int) Math.min(Math.min(Byte.toUnsignedInt(in.get()), in.remaining()), region.offset() + region.size() - offset);
        byte[] bytes = new byte[length];
        in.get(bytes);
        undo.add(new Undo(offset, base.patch(offset, bytes)));
        patched.add(region.name());
      }
      readEverything(base, patched);
    } finally {
      for (int i = undo.size() - 1; i >= 0; i--) {
        base.patch(undo.get(i).offset(), undo.get(i).bytes());
      }
    }
  }

  static Stream<byte[]> unpatchedBinaries() {
    List<RealBinary> bases = RealBinary.all();
    return Stream.iterate(0, i -> i < bases.size(), i -> i + 1).map(i -> new byte[] {(byte) (int) i});
  }

  /**
   * The DWARF struct index on raw sections: byte 0 picks the binary whose .debug_str it reads,
   * bytes 1-4 are the length of .debug_abbrev, which follows, and .debug_info is the rest.
   */
  @MethodSource("dwarfOfEachBinary")
  @FuzzTest(maxDuration = "10m")
  @Timeout(30)
  void dwarfSections(byte[] input) {
    if (input.length < 5) {
      return;
    }
    List<RealBinary> bases = withDwarf();
    RealBinary base = bases.get(Byte.toUnsignedInt(input[0]) % bases.size());
    ByteBuffer in = ByteBuffer.wrap(input).order(ByteOrder.LITTLE_ENDIAN);
    int abbrevLength = (int) Math.min(Integer.toUnsignedLong(in.getInt(1)), input.length - 5);
    ByteBuffer abbrev = ByteBuffer.wrap(input, 5, abbrevLength).slice().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer info = ByteBuffer.wrap(input, 5 + abbrevLength, input.length - 5 - abbrevLength).slice().order(ByteOrder.LITTLE_ENDIAN);
    try (ElfFile elf = ElfFile.open(base.path())) {
      DwarfStructIndex.Strings strings = new DwarfStructIndex.Strings(debug(elf, "str"), debug(elf, "line_str"), debug(elf, "str_offsets"));
      try {
        DwarfStructIndex.build(info, abbrev, strings);
      } catch (DwarfFormatException | IndexOutOfBoundsException | IllegalArgumentException e) {
        // What GoDwarf turns into an ElfException naming the file: malformed DWARF.
      }
    }
  }

  /** Seeds: each DWARF binary's .debug_abbrev and the first 64 KiB of its .debug_info. */
  static Stream<byte[]> dwarfOfEachBinary() {
    List<RealBinary> bases = withDwarf();
    List<byte[]> seeds = new ArrayList<>();
    for (int i = 0; i < bases.size(); i++) {
      try (ElfFile elf = ElfFile.open(bases.get(i).path())) {
        byte[] abbrev = bytes(debug(elf, "abbrev"), Integer.MAX_VALUE);
        byte[] info = bytes(debug(elf, "info"), 64 << 10);
        ByteArrayOutputStream seed = new ByteArrayOutputStream();
        seed.write(i);
        seed.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(abbrev.length).array());
        seed.writeBytes(abbrev);
        seed.writeBytes(info);
        seeds.add(seed.toByteArray());
      }
    }
    return seeds.stream();
  }

  private static List<RealBinary> withDwarf() {
    return RealBinary.all().stream().filter(b -> b.name().endsWith("-dwarf")).toList();
  }

  private static ByteBuffer debug(ElfFile elf, String name) {
    return elf.section(".debug_" + name).or(() -> elf.section(".zdebug_" + name)).map(elf::sectionData)
        .orElseGet(() -> ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN));
  }

  private static byte[] bytes(ByteBuffer b, int max) {
    byte[] out = new byte[Math.min(b.remaining(), max)];
    b.duplicate().get(out);
    return out;
  }

  /** Runs every reader braid runs on a binary; a malformed file may only give ElfException. */
  private static void readEverything(RealBinary base, Set<String> patched) {
    try (ElfFile elf = ElfFile.open(base.path())) {
      elf.isPositionIndependent();
      elf.programHeaders();
      elf.gnuBuildId();
      for (Section s : elf.sections()) {
        boolean debug = s.name().startsWith(".debug_") || s.name().startsWith(".zdebug_");
        if (!debug || patched.contains(s.name())) {
          elf.sectionData(s);
        }
      }
      for (long pc : base.pcs()) {
        elf.functionSymbols().symbolAt(pc);
        elf.sectionAt(pc);
        elf.fileOffsetOfAddress(pc).ifPresent(elf::addressOfFileOffset);
        elf.pointerAt(pc);
      }
      elf.symbol("runtime.text");
      GoBuildInfo.read(elf);
      Pclntab table = Pclntab.read(elf);
      table.hasInlineTrees();
      for (long pc : base.pcs()) {
        table.functionAt(pc);
        table.frames(pc);
        table.spDelta(pc);
      }
      table.function("runtime.execute");
      if (patched.stream().anyMatch(name -> name.contains("debug") || name.equals("section headers") || name.equals(".shstrtab"))) {
        GoDwarf.read(elf).ifPresent(d -> {
          d.structSize("runtime.g");
          d.memberOffset("runtime.g", "goid");
        });
      }
    } catch (ElfException e) {
      // The one way a reader may refuse a binary, and it names the file first.
      if (!e.getMessage().startsWith(base.path() + ": ")) {
        throw new AssertionError("an ElfException that does not name the file: " + e.getMessage(), e);
      }
    }
  }
}
