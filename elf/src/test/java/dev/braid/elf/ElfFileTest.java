package dev.braid.elf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.braid.elf.peers.Peers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ElfFile against readelf and objcopy (binutils) on the examples' Go binaries and a system binary. */
class ElfFileTest {
  private static final Pattern READELF_SECTION = Pattern.compile(
      "^\\s*\\[\\s*(\\d+)]\\s+(\\S+)\\s+\\S+\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s");
  private static final Pattern READELF_SEGMENT = Pattern.compile(
      "^\\s*(LOAD|NOTE)\\s+0x([0-9a-f]+)\\s+0x([0-9a-f]+)\\s+0x[0-9a-f]+\\s+0x([0-9a-f]+)\\s+0x([0-9a-f]+)\\s");
  private static final Pattern READELF_BUILD_ID = Pattern.compile("Build ID: ([0-9a-f]+)");

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-stripped", "shop-pie"})
  void sectionsMatchReadelf(String example) {
    Path binary = Peers.example(example);
    try (ElfFile elf = ElfFile.open(binary)) {
      int compared = 0;
      for (String line : Peers.run(List.of("readelf", "-SW", binary.toString())).split("\n")) {
        Matcher m = READELF_SECTION.matcher(line);
        if (m.find() && !m.group(1).equals("0")) {
          Section s = elf.sections().get(Integer.parseInt(m.group(1)));
          assertThat(s.name()).isEqualTo(m.group(2));
          assertThat(s.address()).isEqualTo(Long.parseLong(m.group(3), 16));
          assertThat(s.offset()).isEqualTo(Long.parseLong(m.group(4), 16));
          assertThat(s.size()).isEqualTo(Long.parseLong(m.group(5), 16));
          compared++;
        }
      }
      assertThat(compared).isEqualTo(elf.sections().size() - 1).isGreaterThan(20);
      assertThat(elf.section(".gopclntab")).isPresent();
      assertThat(elf.section(".no-such-section")).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-pie"})
  void programHeadersMatchReadelf(String example) {
    Path binary = Peers.example(example);
    try (ElfFile elf = ElfFile.open(binary)) {
      List<String> expected = new ArrayList<>();
      for (String line : Peers.run(List.of("readelf", "-lW", binary.toString())).split("\n")) {
        Matcher m = READELF_SEGMENT.matcher(line);
        if (m.find()) {
          expected.add(m.group(1) + " " + m.group(2) + " " + m.group(3) + " " + m.group(4) + " " + m.group(5));
        }
      }
      List<String> actual = elf.programHeaders().stream()
          .filter(p -> p.type() == ProgramHeader.PT_LOAD || p.type() == ProgramHeader.PT_NOTE)
          .map(p -> (p.type() == ProgramHeader.PT_LOAD ? "LOAD" : "NOTE") + " " + hex6(p.offset()) + " "
              + String.format("%016x", p.vaddr()) + " " + hex6(p.fileSize()) + " " + hex6(p.memSize()))
          .toList();
      assertThat(actual).isEqualTo(expected).isNotEmpty();
    }
  }

  private static String hex6(long v) {
    return String.format("%06x", v);
  }

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-stripped", "shop-pie", "/bin/true"})
  void gnuBuildIdMatchesReadelf(String name) {
    Path binary = name.startsWith("/") ? Path.of(name) : Peers.example(name);
    Matcher m = READELF_BUILD_ID.matcher(Peers.run(List.of("readelf", "-n", binary.toString())));
    assertThat(m.find()).isTrue();
    try (ElfFile elf = ElfFile.open(binary)) {
      assertThat(elf.gnuBuildId()).contains(m.group(1));
    }
  }

  @Test
  void pieIsPositionIndependentAndExecIsNot() {
    try (ElfFile exec = ElfFile.open(Peers.example("shop")); ElfFile pie = ElfFile.open(Peers.example("shop-pie"))) {
      assertThat(exec.isPositionIndependent()).isFalse();
      assertThat(pie.isPositionIndependent()).isTrue();
    }
  }

  @Test
  void fileOffsetOfAddressGoesThroughLoadSegments() {
    try (ElfFile elf = ElfFile.open(Peers.example("shop"))) {
      for (String name : List.of(".text", ".gopclntab", ".noptrdata", ".go.buildinfo")) {
        Section s = elf.section(name).orElseThrow();
        assertThat(elf.fileOffsetOfAddress(s.address() + 16)).hasValue(s.offset() + 16);
        assertThat(elf.addressOfFileOffset(s.offset() + 16)).hasValue(s.address() + 16);
      }
      Section bss = elf.section(".bss").orElseThrow();
      assertThat(elf.fileOffsetOfAddress(bss.address() + 16)).isEmpty();
      assertThat(elf.fileOffsetOfAddress(0x10)).isEmpty();
      assertThat(elf.sectionAt(elf.section(".text").orElseThrow().address() + 1).map(Section::name)).contains(".text");
    }
  }

  @Test
  void uncompressedSectionIsAReadOnlyLittleEndianViewOfTheMapping() {
    try (ElfFile elf = ElfFile.open(Peers.example("shop"))) {
      ByteBuffer pclntab = elf.sectionData(elf.section(".gopclntab").orElseThrow());
      assertThat(pclntab.isDirect()).isTrue();
      assertThat(pclntab.isReadOnly()).isTrue();
      assertThat(pclntab.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
      assertThat(pclntab.getInt(0)).isEqualTo(0xfffffff1);
      assertThat(elf.sectionData(elf.section(".bss").orElseThrow()).remaining()).isZero();
    }
  }

  @Test
  void compressedSectionsInflateToWhatObjcopyDecompresses() {
    Path shop = Peers.example("shop");
    Path plain = tmp.resolve("shop-plain");
    Path gnu = tmp.resolve("shop-zdebug");
    Peers.run(List.of("objcopy", "--decompress-debug-sections", shop.toString(), plain.toString()));
    Peers.run(List.of("objcopy", "--compress-debug-sections=zlib-gnu", plain.toString(), gnu.toString()));
    try (ElfFile compressed = ElfFile.open(shop); ElfFile decompressed = ElfFile.open(plain);
        ElfFile legacy = ElfFile.open(gnu)) {
      for (String name : List.of("info", "abbrev", "line")) {
        Section stored = compressed.section(".debug_" + name).orElseThrow();
        assertThat(stored.flags() & Section.SHF_COMPRESSED).isNotZero();
        ByteBuffer expected = decompressed.sectionData(decompressed.section(".debug_" + name).orElseThrow());
        assertThat(compressed.sectionData(stored)).isEqualTo(expected);
        assertThat(legacy.section(".debug_" + name)).isEmpty();
        assertThat(legacy.sectionData(legacy.section(".zdebug_" + name).orElseThrow())).isEqualTo(expected);
      }
    }
  }

  @Test
  void missingFileIsNamedInTheError() {
    Path missing = tmp.resolve("no-such-binary");
    assertThatThrownBy(() -> ElfFile.open(missing))
        .isInstanceOf(ElfException.class)
        .hasMessage(missing + ": no such file");
  }

  @Test
  void textFileIsNotAnElfFile() throws IOException {
    Path text = Files.writeString(tmp.resolve("notes.txt"), "hello, this is not a program\n");
    assertThatThrownBy(() -> ElfFile.open(text))
        .isInstanceOf(ElfException.class)
        .hasMessageStartingWith(text + ": not an ELF file");
  }

  @Test
  void emptyFileIsNotAnElfFile() throws IOException {
    Path empty = Files.createFile(tmp.resolve("empty"));
    assertThatThrownBy(() -> ElfFile.open(empty)).hasMessageStartingWith(empty + ": not an ELF file");
  }

  @Test
  void directoryIsRejected() {
    assertThatThrownBy(() -> ElfFile.open(tmp)).isInstanceOf(ElfException.class).hasMessageStartingWith(tmp + ": ");
  }

  @Test
  void truncatedFileIsReported() throws IOException {
    // gcc's linker writes the section header table at the end of the file.
    byte[] bytes = Files.readAllBytes(Path.of("/bin/true"));
    Path cut = Files.write(tmp.resolve("cut"), Arrays.copyOf(bytes, bytes.length / 2));
    assertThatThrownBy(() -> ElfFile.open(cut))
        .isInstanceOf(ElfException.class)
        .hasMessageStartingWith(cut + ": truncated: section header table at offset ");
    // Go's linker writes it at the front, so a cut Go binary loses section contents instead.
    byte[] go = Files.readAllBytes(Peers.example("shop"));
    Path cutGo = Files.write(tmp.resolve("cut-go"), Arrays.copyOf(go, go.length / 2));
    assertThatThrownBy(() -> ElfFile.open(cutGo)).hasMessageStartingWith(cutGo + ": truncated: ");
    Path tiny = Files.write(tmp.resolve("tiny"), Arrays.copyOf(go, 40));
    assertThatThrownBy(() -> ElfFile.open(tiny)).hasMessage(tiny + ": truncated: 40 bytes, an ELF64 header needs 64");
  }

  @Test
  void sectionPastTheEndOfTheFileIsReported() throws IOException {
    Path shop = Peers.example("shop");
    byte[] bytes = Files.readAllBytes(shop);
    try (ElfFile elf = ElfFile.open(shop)) {
      int index = elf.sections().indexOf(elf.section(".gopclntab").orElseThrow());
      ByteBuffer header = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      long shoff = header.getLong(40);
      header.putLong((int) shoff + index * 64 + 32, bytes.length); // sh_size
      Path file = Files.write(tmp.resolve("long-section"), bytes);
      assertThatThrownBy(() -> ElfFile.open(file)).hasMessage(file + ": truncated: section .gopclntab (offset "
          + elf.section(".gopclntab").orElseThrow().offset() + ", size " + bytes.length
          + ") extends past the end of the file (" + bytes.length + " bytes)");
    }
  }

  @Test
  void elf32IsUnsupported() throws IOException {
    Path file = patched("elf32", 4, (byte) 1);
    assertThatThrownBy(() -> ElfFile.open(file)).hasMessage(file
        + ": unsupported ELF file: ELF class 1 (ELF32); only ELF64 little-endian x86-64 is supported");
  }

  @Test
  void bigEndianIsUnsupported() throws IOException {
    Path file = patched("big-endian", 5, (byte) 2);
    assertThatThrownBy(() -> ElfFile.open(file)).hasMessageContaining("data encoding 2 (big-endian)");
  }

  @Test
  void otherMachinesAreUnsupported() throws IOException {
    Path file = patched("arm64", 18, (byte) 183);
    assertThatThrownBy(() -> ElfFile.open(file)).hasMessageContaining("machine 183 (AArch64)");
  }

  private Path patched(String name, int offset, byte value) throws IOException {
    byte[] bytes = Files.readAllBytes(Path.of("/bin/true"));
    bytes[offset] = value;
    return Files.write(tmp.resolve(name), bytes);
  }

  @Test
  void closeIsIdempotentAndViewsFailCleanlyAfterwards() {
    ElfFile elf = ElfFile.open(Peers.example("shop"));
    ByteBuffer text = elf.sectionData(elf.section(".text").orElseThrow());
    elf.close();
    elf.close();
    assertThatThrownBy(() -> text.get(0)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void pointerAtReadsRelativeRelocationAddends() {
    try (ElfFile pie = ElfFile.open(Peers.example("shop-pie"))) {
      Section module = pie.section(".go.module").orElseThrow();
      long pclntab = pie.section(".gopclntab").orElseThrow().address();
      assertThat(pie.relativeRelocations().size()).isGreaterThan(1000);
      assertThat(pie.relativeRelocations().addendAt(module.address())).hasValue(pclntab);
      assertThat(pie.relativeRelocations().slotsPointingTo(pclntab)).contains(module.address());
      assertThat(pie.pointerAt(module.address())).hasValue(pclntab);
    }
  }
}
