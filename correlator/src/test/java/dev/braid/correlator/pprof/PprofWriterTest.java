package dev.braid.correlator.pprof;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Commands;
import dev.braid.profiler.Line;
import dev.braid.profiler.Location;
import dev.braid.profiler.Mapping;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code go tool pprof} reads back from the files braid writes. */
class PprofWriterTest {
  private static final Mapping SHOP = new Mapping(0x400000, 0x800000, 0, "/srv/shop", "abc123");
  private static final Location PRICE =
      new Location(0x401010, SHOP, List.of(new Line("main.spin", "/src/shop/main.go", 90), new Line("main.priceCart", "/src/shop/main.go", 70)), Location.Kind.GO);
  private static final Location HANDLER = new Location(0x402020, SHOP, List.of(new Line("main.main.func1", "/src/shop/main.go", 33)), Location.Kind.GO);
  private static final Location IDLE = new Location(0x403030, SHOP, List.of(new Line("runtime.futex", "/go/src/runtime/sys.s", 557)), Location.Kind.GO);

  private static Path write(Path dir, PprofProfile profile) throws Exception {
    Path file = dir.resolve("p.pb.gz");
    try (OutputStream out = Files.newOutputStream(file)) {
      new PprofWriter().write(profile, out);
    }
    return file;
  }

  private static PprofProfile profile() {
    Map<String, String> span = Map.of("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736", "span_id", "53995c3f42cd8ad8", "span_name", "GET /checkout");
    return new PprofProfile(
        1_700_000_000_000_000_000L,
        10_000_000_000L,
        10_101_010L,
        List.of(
            new PprofProfile.Sample(List.of(PRICE, HANDLER), span),
            new PprofProfile.Sample(List.of(PRICE, HANDLER), span),
            new PprofProfile.Sample(List.of(IDLE), Map.of())));
  }

  @Test
  void pprofListsTheSpanLabels(@TempDir Path dir) throws Exception {
    String tags = Commands.run(List.of("go", "tool", "pprof", "-tags", write(dir, profile()).toString()));
    assertThat(tags)
        .contains("span_id: Total 2")
        .contains("53995c3f42cd8ad8")
        .contains("trace_id: Total 2")
        .contains("4bf92f3577b34da6a3ce929d0e0e4736")
        .contains("span_name: Total 2")
        .contains("GET /checkout");
  }

  @Test
  void pprofSeesMergedSamplesWithInlinedFrames(@TempDir Path dir) throws Exception {
    String raw = Commands.run(List.of("go", "tool", "pprof", "-raw", write(dir, profile()).toString()));
    assertThat(raw).contains("PeriodType: cpu nanoseconds").contains("Period: 10101010").contains("Samples:\nsamples/count cpu/nanoseconds");
    // The two equal samples became one with count 2 and twice the period of CPU time.
    assertThat(raw)
        .containsPattern(
            "\\n\\s+2\\s+20202020: 1 2 \\n\\s+span_id:\\[53995c3f42cd8ad8\\] span_name:\\[GET /checkout\\]"
                + " trace_id:\\[4bf92f3577b34da6a3ce929d0e0e4736\\]\\n");
    assertThat(raw).containsPattern("\\n\\s+1\\s+10101010: 3 \\n");
    // Location 1 holds the inlined call and its caller, innermost first.
    assertThat(raw).containsPattern("1: 0x401010 M=1 main.spin /src/shop/main.go:90:0 s=0\\n\\s+main.priceCart /src/shop/main.go:70:0 s=0");
    // Symbolized by braid: pprof must not look for local binaries.
    assertThat(raw).contains("1: 0x400000/0x800000/0x0 /srv/shop abc123 [FN][FL][LN][IN]");
  }

  @Test
  void topFindsTheFunctionThatBurnedTheCpu(@TempDir Path dir) throws Exception {
    String top = Commands.run(List.of("go", "tool", "pprof", "-top", "-sample_index=cpu", write(dir, profile()).toString()));
    assertThat(top.lines().filter(l -> l.contains("main.spin")).findFirst().orElseThrow()).contains("66.67%");
  }
}
