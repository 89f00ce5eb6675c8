package dev.braid.tracer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.elf.go.GoVersion;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import dev.braid.tracer.OffsetTable.PatchRange;
import dev.braid.tracer.tools.OffsetTableTool;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OffsetTableTest {
  private static GoVersion v(String s) {
    return GoVersion.parse(s).orElseThrow();
  }

  @Test
  void formatThenParseGivesTheSameTable() {
    Map<PatchRange, Map<GoField, Integer>> columns = new LinkedHashMap<>();
    columns.put(new PatchRange(v("go1.26.0"), v("go1.26.6")), Map.of(GoField.G_GOID, 152, GoField.SERVER_RESPONSE_STATUS, 120));
    columns.put(new PatchRange(v("go1.26.7"), v("go1.26.11")), Map.of(GoField.G_GOID, 152, GoField.SERVER_RESPONSE_STATUS, 128));
    OffsetTable t = OffsetTable.parse(OffsetTable.format(columns, List.of("a comment")));
    assertThat(t.ranges()).extracting(PatchRange::toString).containsExactly("go1.26.0-go1.26.6", "go1.26.7-go1.26.11");
    assertThat(t.forVersion(v("go1.26.3")).orElseThrow().offset(GoField.SERVER_RESPONSE_STATUS)).hasValue(120);
    assertThat(t.forVersion(v("go1.26.9")).orElseThrow().offset(GoField.SERVER_RESPONSE_STATUS)).hasValue(128);
    assertThat(t.forVersion(v("go1.26.9")).orElseThrow().offset(GoField.HMAP_B)).isEmpty();
    // A newer patch than any the table was read from gets nothing: braid does not guess.
    assertThat(t.forVersion(v("go1.26.12"))).isEmpty();
    assertThat(t.newestOf(v("go1.26.12"))).contains(v("go1.26.11"));
  }

  /**
   * The shipped table is what the DWARF of today's builds says for the newest patch of every
   * covered release: a stale table would give stripped binaries wrong offsets.
   */
  @Test
  void theBundledTableMatchesDwarfOfTheNewestPatchOfEveryRelease() {
    OffsetTable bundled = OffsetTable.bundled();
    for (GoRelease release : GoBuilds.covered()) {
      OffsetSource.Table column = bundled.forVersion(v(release.version())).orElseThrow(() -> new AssertionError("no column for " + release));
      assertThat(column.offsets()).as(release.version()).isEqualTo(OffsetTableTool.readOffsets(release));
    }
  }
}
