package dev.braid.profiler;

import dev.braid.bpf.testing.Commands;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the compiler's DWARF says of a code address, read by a peer that shares nothing with braid's
 * pclntab reader: {@code llvm-dwarfdump --lookup --show-parents}, which walks the subprogram and
 * the inlined subroutines whose ranges hold the address, and the line table.
 */
final class DwarfPeer {
  private static final Pattern NAME = Pattern.compile("DW_AT_name\\s+\\(\"([^\"]+)\"\\)");
  private static final Pattern ORIGIN = Pattern.compile("DW_AT_abstract_origin\\s+\\(0x[0-9a-f]+ \"([^\"]+)\"\\)");
  private static final Pattern CALL_LINE = Pattern.compile("DW_AT_call_line\\s+\\((\\d+)\\)");
  private static final Pattern LINE_INFO = Pattern.compile("Line info: file '[^']*', line (\\d+)");

  private final Path binary;
  private final Map<Long, List<Line>> byAddress = new HashMap<>();

  DwarfPeer(Path binary) {
    this.binary = binary;
  }

  /**
   * The functions and lines at {@code address} (a link-time address of {@link #binary}),
   * innermost first: the inlined functions, then the function they were inlined into. File names
   * are left empty (DWARF gives them relative to the compile directory).
   */
  synchronized List<Line> frames(long address) {
    return byAddress.computeIfAbsent(address, this::lookUp);
  }

  private List<Line> lookUp(long address) {
    String out = Commands.run(List.of("llvm-dwarfdump", "--lookup=0x" + Long.toHexString(address), "--show-parents", binary.toString()));
    // Outermost first: the subprogram, then each inlined subroutine with the line it was called from.
    List<String> functions = new ArrayList<>();
    List<Long> callLines = new ArrayList<>();
    long line = 0;
    String tag = "";
    for (String l : out.lines().toList()) {
      if (l.contains("DW_TAG_")) {
        tag = l.substring(l.indexOf("DW_TAG_")).strip();
        if (tag.equals("DW_TAG_compile_unit")) { // the lookup prints the chain to each DIE it found: keep the last
          functions.clear();
          callLines.clear();
        }
      }
      Matcher m;
      if (tag.equals("DW_TAG_subprogram") && (m = NAME.matcher(l)).find()) {
        functions.add(m.group(1));
      } else if (tag.equals("DW_TAG_inlined_subroutine") && (m = ORIGIN.matcher(l)).find()) {
        functions.add(m.group(1));
      } else if (tag.equals("DW_TAG_inlined_subroutine") && (m = CALL_LINE.matcher(l)).find()) {
        callLines.add(Long.parseLong(m.group(1)));
      } else if ((m = LINE_INFO.matcher(l)).find()) {
        line = Long.parseLong(m.group(1));
      }
    }
    if (functions.isEmpty() || callLines.size() != functions.size() - 1 || line == 0) {
      throw new AssertionError("llvm-dwarfdump --lookup 0x" + Long.toHexString(address) + " of " + binary + " is not understood:\n" + out);
    }
    List<Line> frames = new ArrayList<>();
    for (int i = functions.size() - 1; i >= 0; i--) {
      frames.add(new Line(functions.get(i), "", i == functions.size() - 1 ? line : callLines.get(i)));
    }
    return List.copyOf(frames);
  }
}
