package dev.braid.elf.go;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Inline expansion against the Go runtime itself: src/test/go/inlinepeer captures stacks inside inlined calls and
 * prints what runtime.CallersFrames makes of them; {@link Pclntab#frames} must say the same for the same binary.
 * Every toolchain found ({@link GoToolchain#all}: Go 1.18/1.19 pclntabs when Debian's golang-1.19 is installed) is
 * tried in every link mode, including ones where the inline trees can only be found through moduledata.
 */
class InlinePeerTest {

  /** How the peer is built. */
  enum Mode {
    EXE(List.of()),
    STRIPPED(List.of("-ldflags=-s -w")),
    PIE(List.of("-buildmode=pie")),
    /** gcc links: runtime.text is no longer the start of .text, so only moduledata gives the text base. */
    PIE_EXTERNAL_STRIPPED(List.of("-buildmode=pie", "-ldflags=-s -w -linkmode=external")),
    /** As lld leaves them: moduledata's pointers exist only as relocation addends (the slots are zeroed here). */
    PIE_STRIPPED_SLOTS_ZEROED(List.of("-buildmode=pie", "-ldflags=-s -w"));

    final List<String> flags;

    Mode(List<String> flags) {
      this.flags = flags;
    }
  }

  static Stream<Arguments> builds() {
    return GoToolchain.all().stream().flatMap(go -> Stream.of(Mode.values()).map(mode -> Arguments.of(go, mode)));
  }

  /** One line of the peer's output. */
  record RuntimeFrame(long pc, String function, String file, int line, boolean inlined) {
    GoFrame toGoFrame() {
      return new GoFrame(function, file, line, inlined);
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("builds")
  void framesMatchRuntimeCallersFrames(GoToolchain go, Mode mode) throws IOException {
    Path binary = PeerPrograms.build(go, "inlinepeer", mode.flags);
    if (mode == Mode.PIE_STRIPPED_SLOTS_ZEROED) {
      binary = zeroRelativeSlots(binary);
    }
    Map<String, Long> runtimeEntries = new HashMap<>();
    List<List<RuntimeFrame>> stacks = new ArrayList<>();
    List<RuntimeFrame> current = new ArrayList<>();
    for (String line : Peers.run(List.of(binary.toString())).split("\n")) {
      String[] f = line.split(" ");
      if (f[0].equals("entry")) {
        runtimeEntries.put(f[1], Long.parseUnsignedLong(f[2], 16));
      } else {
        current.add(new RuntimeFrame(Long.parseUnsignedLong(f[1], 16), f[2], f[3], Integer.parseInt(f[4]),
            Boolean.parseBoolean(f[5])));
        if (!current.getLast().inlined()) {
          stacks.add(List.copyOf(current));
          current.clear();
        }
      }
    }
    assertThat(stacks).hasSizeGreaterThanOrEqualTo(3);
    assertThat(stacks.stream().mapToLong(s -> s.stream().filter(RuntimeFrame::inlined).count()).sum())
        .isGreaterThanOrEqualTo(4);

    try (ElfFile elf = ElfFile.open(binary)) {
      Pclntab pclntab = Pclntab.read(elf);
      assertThat(pclntab.hasInlineTrees()).isTrue();
      for (List<RuntimeFrame> stack : stacks) {
        RuntimeFrame physical = stack.getLast();
        // The runtime prints run-time addresses; a PIE is loaded at a bias from its link-time addresses.
        long bias = runtimeEntries.get(physical.function())
            - pclntab.function(physical.function()).orElseThrow().entry();
        assertThat(elf.isPositionIndependent() || bias == 0).isTrue();
        List<GoFrame> expected = stack.stream().map(RuntimeFrame::toGoFrame).toList();
        // CallersFrames reports the innermost frame at the call's pc (return address - 1).
        assertThat(pclntab.frames(stack.getFirst().pc() - bias)).as("%s at %x", go, stack.getFirst().pc())
            .isEqualTo(expected);
      }
    }
  }

  /**
   * A copy of {@code binary} whose R_X86_64_RELATIVE slots hold 0 in the file. The loader writes them from the
   * addends anyway, so the copy still runs, but only a reader that applies relocations finds moduledata in it.
   */
  private static Path zeroRelativeSlots(Path binary) throws IOException {
    byte[] bytes = Files.readAllBytes(binary);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int zeroed = 0;
    try (ElfFile elf = ElfFile.open(binary)) {
      for (Section s : elf.sections()) {
        if ((s.flags() & Section.SHF_WRITE) == 0 || s.isNoBits()) {
          continue;
        }
        for (long slot = s.address(); slot < s.address() + s.size(); slot += 8) {
          if (elf.relativeRelocations().addendAt(slot).isPresent()) {
            b.putLong((int) elf.fileOffsetOfAddress(slot).orElseThrow(), 0);
            zeroed++;
          }
        }
      }
    }
    assertThat(zeroed).isGreaterThan(100);
    Path out = PeerPrograms.scratch("zeroed").resolve(binary.getFileName());
    Files.write(out, bytes);
    out.toFile().setExecutable(true);
    return out;
  }
}
