package dev.braid.tracer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.elf.go.GoVersion;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import dev.braid.tracer.OffsetTable.PatchRange;
import dev.braid.tracer.OffsetTable.Scheme;
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

  /** grpc's table names grpc releases, and a range may span minor releases. */
  @Test
  void grpcsTableNamesGrpcReleasesAcrossMinorReleases() {
    Map<PatchRange, Map<GoField, Integer>> columns = new LinkedHashMap<>();
    columns.put(new PatchRange(Scheme.GRPC.parse("v1.67.0").orElseThrow(), Scheme.GRPC.parse("v1.68.2").orElseThrow()), Map.of(GoField.GRPC_STREAM_ID, 8));
    columns.put(new PatchRange(Scheme.GRPC.parse("v1.69.0").orElseThrow(), Scheme.GRPC.parse("v1.79.3").orElseThrow()), Map.of(GoField.GRPC_STREAM_ID, 16));
    String text = OffsetTable.format(Scheme.GRPC, columns, List.of());
    assertThat(text).contains("field\tv1.67.0-v1.68.2\tv1.69.0-v1.79.3\n").doesNotContain("runtime.g.goid");
    OffsetTable t = OffsetTable.parse(Scheme.GRPC, text);
    assertThat(t.forVersion(Scheme.GRPC.parse("v1.72.1").orElseThrow()).orElseThrow().offset(GoField.GRPC_STREAM_ID)).hasValue(16);
    assertThat(t.forVersion(Scheme.GRPC.parse("v1.72.1").orElseThrow()).orElseThrow().describe()).isEqualTo("the grpc v1.69.0-v1.79.3 offset table");
    assertThat(t.forVersion(Scheme.GRPC.parse("v1.80.0").orElseThrow())).isEmpty();
    assertThat(t.span()).isEqualTo("v1.67.0 to v1.79.3");
  }

  /**
   * The shipped grpc table is what the DWARF of the gRPC examples says, for the grpc each Go
   * release is tested with (built by that release: the table was read from builds of one Go).
   */
  @Test
  void theBundledGrpcTableMatchesDwarfOfEveryGrpcTheTestsBuild() {
    OffsetTable bundled = OffsetTable.bundled(Scheme.GRPC);
    for (GoRelease release : GoBuilds.covered()) {
      String grpc = GoBuilds.grpcVersionFor(release);
      OffsetSource.Table column = bundled.forVersion(Scheme.GRPC.parse(grpc).orElseThrow()).orElseThrow(() -> new AssertionError("no column for grpc " + grpc));
      assertThat(column.offsets()).as("grpc %s built by %s", grpc, release).isEqualTo(OffsetTableTool.readGrpcOffsets(release, grpc));
    }
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
