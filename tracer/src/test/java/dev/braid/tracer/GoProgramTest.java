package dev.braid.tracer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.braid.bpf.testing.Commands;
import dev.braid.examples.Examples;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Inspection of real Go binaries, checked against Go's own tools. Needs no privilege. */
class GoProgramTest {
  private static final Path SHOP = Examples.binary("shop");

  @Test
  void offsetsEqualWhatDebugDwarfReads() {
    GoOffsets o = GoProgram.inspect(SHOP).offsets();
    Map<String, Integer> expected =
        dwarfOffsets(
            SHOP,
            "runtime.g.goid",
            "net/http.Request.Method",
            "net/http.Request.URL",
            "net/http.Request.Header",
            "net/http.Request.Pattern",
            "net/url.URL.Path",
            "net/http.response.status",
            "net/http.response.req",
            "internal/runtime/maps.Map.dirPtr",
            "internal/runtime/maps.Map.dirLen",
            "internal/runtime/maps.table.groups");
    assertThat(o.gGoid()).isEqualTo(expected.get("runtime.g.goid"));
    assertThat(o.requestMethod()).isEqualTo(expected.get("net/http.Request.Method"));
    assertThat(o.requestUrl()).isEqualTo(expected.get("net/http.Request.URL"));
    assertThat(o.requestHeader()).isEqualTo(expected.get("net/http.Request.Header"));
    assertThat(o.requestPattern()).isEqualTo(expected.get("net/http.Request.Pattern"));
    assertThat(o.urlPath()).isEqualTo(expected.get("net/url.URL.Path"));
    assertThat(o.responseStatus()).isEqualTo(expected.get("net/http.response.status"));
    assertThat(o.responseReq()).isEqualTo(expected.get("net/http.response.req"));
    assertThat(o.swissDirPtr()).isEqualTo(expected.get("internal/runtime/maps.Map.dirPtr"));
    assertThat(o.swissDirLen()).isEqualTo(expected.get("internal/runtime/maps.Map.dirLen"));
    assertThat(o.swissTableGroups()).isEqualTo(expected.get("internal/runtime/maps.table.groups"));
    assertThat(o.mapLayout()).isEqualTo(GoOffsets.MAP_LAYOUT_SWISS);
    assertThat(o.features())
        .isEqualTo(GoOffsets.FEAT_HTTP_SERVER | GoOffsets.FEAT_TRACEPARENT | GoOffsets.FEAT_ROUTE);
  }

  @Test
  void probesSitOnTheJbeThatObjdumpShows() throws IOException {
    GoProgram p = GoProgram.inspect(SHOP);
    assertThat(p.sites()).containsOnlyKeys(Probe.values());
    for (GoProgram.ProbeSite site : p.sites().values()) {
      // go tool objdump lists the function's instructions; the probe's address must be its JBE.
      String dump = Commands.run(List.of("go", "tool", "objdump", "-s", "^" + quoteMeta(site.probe().function) + "$", SHOP.toString()));
      String jbeLine =
          dump.lines().filter(l -> l.contains("JBE")).findFirst().orElseThrow(() -> new AssertionError("no JBE in\n" + dump));
      long jbeAddress = Long.parseUnsignedLong(jbeLine.trim().split("\\s+")[1].substring(2), 16);
      assertThat(site.address()).as(site.probe().function).isEqualTo(jbeAddress);
      // And the file offset holds that instruction: 0f 86 (JBE rel32) or 76 (JBE rel8).
      try (RandomAccessFile f = new RandomAccessFile(SHOP.toFile(), "r")) {
        f.seek(site.fileOffset());
        int b0 = f.read();
        int b1 = f.read();
        assertThat(b0 == 0x76 || (b0 == 0x0f && b1 == 0x86)).as("JBE at file offset 0x%x", site.fileOffset()).isTrue();
      }
    }
  }

  @Test
  void aMissingFileIsNamed() {
    assertThatThrownBy(() -> GoProgram.inspect(Path.of("/nonexistent/shop")))
        .isInstanceOf(UnsupportedBinaryException.class)
        .hasMessage("/nonexistent/shop: no such file");
  }

  @Test
  void aTextFileIsNotAnExecutable(@TempDir Path dir) throws IOException {
    Path text = Files.writeString(dir.resolve("notes.txt"), "hello\n");
    assertThatThrownBy(() -> GoProgram.inspect(text))
        .isInstanceOf(UnsupportedBinaryException.class)
        .hasMessageStartingWith(text + ": not an ELF executable braid can read");
  }

  @Test
  void aCProgramIsNotAGoProgram() {
    assertThatThrownBy(() -> GoProgram.inspect(Path.of("/bin/true")))
        .isInstanceOf(UnsupportedBinaryException.class)
        .hasMessageContaining("not a Go program");
  }

  @Test
  void aStrippedBinaryWithoutAnOffsetTableIsRefusedWithTheReason() {
    Path stripped = Examples.binary("shop-stripped");
    assertThatThrownBy(() -> GoProgram.inspect(stripped))
        .isInstanceOf(UnsupportedBinaryException.class)
        .hasMessageContaining("without DWARF")
        .hasMessageContaining("runtime.g");
  }

  /**
   * Offsets as the standard library's debug/dwarf reads them, through the peer program of the elf
   * module's tests (elf/src/test/go/dwarfpeer), keyed {@code STRUCT.MEMBER}.
   */
  static Map<String, Integer> dwarfOffsets(Path binary, String... members) {
    List<String> cmd = new ArrayList<>(List.of("go", "run", ".", binary.toString()));
    for (String m : members) {
      String struct = m.substring(0, m.lastIndexOf('.'));
      if (!cmd.contains(struct)) {
        cmd.add(struct);
      }
    }
    String out = Commands.run(Path.of("../elf/src/test/go/dwarfpeer").toAbsolutePath().normalize(), cmd);
    Map<String, Integer> offsets = new HashMap<>();
    for (String line : out.strip().split("\n")) {
      String[] f = line.split(" "); // member STRUCT MEMBER OFFSET
      if (f[0].equals("member")) {
        offsets.put(f[1] + "." + f[2], Integer.parseInt(f[3]));
      }
    }
    return offsets;
  }

  private static String quoteMeta(String s) {
    return s.replaceAll("([().*\\[\\]])", "\\\\$1");
  }
}
