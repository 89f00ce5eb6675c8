package dev.braid.tracer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.braid.bpf.testing.Commands;
import dev.braid.elf.go.GoVersion;
import dev.braid.examples.Examples;
import dev.braid.examples.GoRelease;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoBuild;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** Inspection of real Go binaries, checked against Go's own tools. Needs no privilege. */
class GoProgramTest {
  private static final Path SHOP = Examples.binary("shop");

  @Test
  void offsetsEqualWhatDebugDwarfReads() {
    GoOffsets o = GoProgram.inspect(SHOP).offsets();
    String[] members = java.util.Arrays.stream(GoField.values()).map(GoField::qualifiedName).toArray(String[]::new);
    Map<String, Integer> expected = dwarfOffsets(SHOP, members);
    for (GoField f : GoField.values()) {
      assertThat(o.offset(f)).as(f.qualifiedName()).isEqualTo(expected.getOrDefault(f.qualifiedName(), GoOffsets.UNKNOWN));
    }
    assertThat(o.offset(GoField.G_GOID)).isPositive();
    assertThat(o.mapLayout()).isEqualTo(GoOffsets.MAP_LAYOUT_SWISS);
    assertThat(o.features())
        .isEqualTo(
            GoOffsets.FEAT_HTTP_SERVER | GoOffsets.FEAT_TRACEPARENT | GoOffsets.FEAT_ROUTE | GoOffsets.FEAT_INHERIT | GoOffsets.FEAT_HTTP_CLIENT
                | GoOffsets.FEAT_CHAN_LINKS | GoOffsets.FEAT_HTTP2_SERVER | GoOffsets.FEAT_HTTP_VERSION);
  }

  /**
   * Go's linker gives the executable a TLS block of one slot, runtime.tlsg, right below the thread
   * pointer: readelf shows the PT_TLS segment it comes from.
   */
  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-pie", "shop-stripped"})
  void gSitsInTheLastSlotBelowTheThreadPointer(String name) {
    Path binary = Examples.binary(name);
    String tls = Commands.run(List.of("readelf", "-lW", binary.toString())).lines().filter(l -> l.trim().startsWith("TLS")).findFirst().orElseThrow();
    String[] cols = tls.trim().split("\\s+");
    long memSize = Long.decode(cols[5]);
    assertThat(memSize).isEqualTo(8);
    GoProgram p = GoProgram.inspect(binary);
    assertThat(p.goroutineTls()).hasValue(-8);
    assertThat(p.has(Probe.Feature.SAMPLE_CONTEXT)).isTrue();
    assertThat(p.offsets().offset(GoField.G_M)).isPositive();
    assertThat(p.offsets().offset(GoField.M_CURG)).isPositive();
  }

  @Test
  void longLivedGoroutinesAndTheirWrappersDoNotInherit() {
    GoProgram p = GoProgram.inspect(SHOP);
    // objdump names the functions whose code calls a start function from inside the function
    // with the go statement: the wrappers that `go pconn.readLoop()` compiles to; nm gives the
    // start functions' own entries.
    List<Long> expected = new ArrayList<>();
    String current = null;
    long entry = 0;
    String functions = String.join("|", GoProgram.NO_INHERIT.stream().map(n -> "\\Q" + n.startedIn() + "\\E").toList());
    for (String line : Commands.run(List.of("go", "tool", "objdump", "-s", functions, SHOP.toString())).lines().toList()) {
      if (line.startsWith("TEXT ")) {
        current = line.substring(5, line.indexOf("(SB)"));
        entry = -1;
      } else if (entry == -1 && line.contains("0x")) {
        entry = Long.parseUnsignedLong(line.trim().split("\\s+")[1].substring(2), 16);
      }
      for (GoProgram.NoInherit n : GoProgram.NO_INHERIT) {
        if (current != null && current.startsWith(n.startedIn() + ".") && line.contains("CALL " + n.start() + "(SB)")) {
          expected.add(entry);
        }
      }
    }
    for (String line : Commands.run(List.of("go", "tool", "nm", SHOP.toString())).lines().toList()) {
      for (GoProgram.NoInherit n : GoProgram.NO_INHERIT) {
        if (line.endsWith(" T " + n.start()) || line.endsWith(" t " + n.start())) {
          expected.add(Long.parseUnsignedLong(line.trim().split("\\s+")[0], 16));
        }
      }
    }
    // readLoop, writeLoop and their wrappers; HTTP/2's client readLoop and doRequest and their
    // wrappers; the GC mark worker and its wrapper; the finalizer and cleanup runners (started
    // without arguments: no wrapper).
    expected = expected.stream().distinct().toList();
    assertThat(expected).hasSize(12);
    assertThat(p.offsets().noInheritPcs()).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(p.offsets().spawnSite()).isEqualTo(p.sites(Probe.SPAWN).getFirst().address());
  }

  @Test
  void everyProbeSitsWhereObjdumpShowsItsInstruction() throws IOException {
    probesSitWhereObjdumpShowsTheirInstructions(SHOP, java.util.Arrays.stream(Probe.values()).filter(p -> !isGrpc(p) && p.feature != Probe.Feature.SDK_SPANS && p.feature != Probe.Feature.AUTO_SDK).toList());
  }

  /**
   * A program that uses the OpenTelemetry API alone: --auto-sdk's probes read registers only, so
   * they sit where objdump shows their functions' first instructions in a stripped build too.
   */
  @Test
  void autoSdksProbesNeedNoDwarf() throws IOException {
    List<Probe> autoSdk = java.util.Arrays.stream(Probe.values()).filter(p -> p.feature == Probe.Feature.AUTO_SDK).toList();
    assertThat(autoSdk).hasSize(4);
    probesSitWhereObjdumpShowsTheirInstructions(Examples.binary("otelapi"), autoSdk);
    GoRelease go = GoBuilds.covered().getLast();
    GoProgram stripped = GoProgram.inspect(GoBuilds.otelBinary("otelapi", go, GoBuild.STRIPPED_PIE_PURE, GoBuilds.otelVersionsFor(go)));
    assertThat(stripped.offsets().has(GoOffsets.FEAT_AUTO_SDK)).isTrue();
    assertThat(stripped.sites(Probe.AUTO_SPAN_START)).hasSize(1);
    assertThat(GoProgram.inspect(SHOP).offsets().has(GoOffsets.FEAT_AUTO_SDK)).as("a program without the API").isFalse();
  }

  /**
   * A program that links the OpenTelemetry Go SDK: its recording span's and SpanContext's layout
   * as Go's debug/dwarf reads them, newRecordingSpan's sc right after psc on the stack, and both
   * SDK probes where objdump shows their functions' first instructions.
   */
  @Test
  void theOtelSdksSpansAreFollowedWithOffsetsFromDwarf() throws IOException {
    Path otel = Examples.binary("otelshop");
    GoOffsets o = GoProgram.inspect(otel).offsets();
    List<GoField> sdk = java.util.Arrays.stream(GoField.values()).filter(GoField::ofOtel).toList();
    Map<String, Integer> expected = dwarfOffsets(otel, sdk.stream().map(GoField::qualifiedName).toArray(String[]::new));
    for (GoField f : sdk) {
      assertThat(o.offset(f)).as(f.qualifiedName()).isEqualTo(expected.get(f.qualifiedName()));
    }
    assertThat(o.offset(GoField.SDK_SPAN_CONTEXT_SIZE)).isEqualTo(64);
    assertThat(o.has(GoOffsets.FEAT_SDK_SPANS)).isTrue();
    probesSitWhereObjdumpShowsTheirInstructions(otel, List.of(Probe.SDK_SPAN_START, Probe.SDK_SPAN_END));
    assertThat(GoProgram.inspect(SHOP).offsets().has(GoOffsets.FEAT_SDK_SPANS)).as("a program without the SDK").isFalse();
  }

  /**
   * A stripped program with the SDK: the SDK's offsets come from otel-sdk-offsets.tsv, and equal
   * those in the DWARF of the same program built with DWARF.
   */
  @ParameterizedTest(name = "{0} with the OpenTelemetry SDK {1}")
  @MethodSource("otelReleases")
  void aStrippedProgramWithTheSdkTakesItsOffsetsFromTheTable(GoRelease go, GoBuilds.OtelVersions sdk) {
    GoProgram stripped = GoProgram.inspect(GoBuilds.otelBinary("otelshop", go, GoBuild.STRIPPED_PIE_PURE, sdk));
    GoProgram withDwarf = GoProgram.inspect(GoBuilds.otelBinary("otelshop", go, GoBuild.DEFAULT, sdk));
    assertThat(stripped.offsetSource()).contains("the OpenTelemetry SDK");
    assertThat(stripped.offsets().has(GoOffsets.FEAT_SDK_SPANS)).isTrue();
    assertThat(stripped.sites(Probe.SDK_SPAN_START)).hasSize(1);
    for (GoField f : java.util.Arrays.stream(GoField.values()).filter(GoField::ofOtel).toList()) {
      assertThat(stripped.offsets().offset(f)).as(f.qualifiedName()).isEqualTo(withDwarf.offsets().offset(f));
    }
  }

  /** The oldest and the newest SDK of the matrix (the table itself was read from every SDK release's DWARF). */
  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> otelReleases() {
    return java.util.stream.Stream.of(GoBuilds.covered().getFirst(), GoBuilds.covered().getLast())
        .map(r -> org.junit.jupiter.params.provider.Arguments.of(r, GoBuilds.otelVersionsFor(r)));
  }

  /** A stripped program with an SDK the table does not cover keeps braid's spans, and is told why. */
  @Test
  void aStrippedProgramWithAnSdkTheTableLacksIsToldItsSpansAreNotFollowed() {
    GoRelease go = GoBuilds.covered().getLast();
    GoBuilds.OtelVersions sdk = GoBuilds.otelVersionsFor(go);
    GoProgram p = GoProgram.inspect(GoBuilds.otelBinary("otelshop", go, GoBuild.STRIPPED_PIE_PURE, sdk), OffsetTable.bundled(),
        OffsetTable.bundled(OffsetTable.Scheme.GRPC), OffsetTable.parse(OffsetTable.Scheme.OTEL_SDK, ""));
    assertThat(p.offsets().has(GoOffsets.FEAT_SDK_SPANS)).isFalse();
    assertThat(p.sites(Probe.SDK_SPAN_START)).isEmpty();
    assertThat(p.offsets().has(GoOffsets.FEAT_HTTP_SERVER)).isTrue();
    assertThat(p.warnings()).anyMatch(w -> w.contains("built without DWARF with go.opentelemetry.io/otel/sdk " + sdk.sdk())
        && w.contains("the application's spans are not followed"));
  }

  @Test
  void everyGrpcProbeSitsWhereObjdumpShowsItsInstruction() throws IOException {
    Path grpc = Examples.binary("grpcshop");
    assertThat(GoProgram.inspect(grpc).sites(Probe.EXECUTE)).isNotEmpty();
    probesSitWhereObjdumpShowsTheirInstructions(grpc, java.util.Arrays.stream(Probe.values()).filter(GoProgramTest::isGrpc).toList());
  }

  private static boolean isGrpc(Probe p) {
    return p.feature == Probe.Feature.GRPC_SERVER || p.feature == Probe.Feature.GRPC_CLIENT;
  }

  /** Each of {@code probes} (and of those the binary has, only they) sits where objdump shows its instruction. */
  private static void probesSitWhereObjdumpShowsTheirInstructions(Path binary, List<Probe> probes) throws IOException {
    GoProgram p = GoProgram.inspect(binary);
    assertThat(p.sites().stream().map(GoProgram.ProbeSite::probe).filter(probes::contains).distinct()).containsExactlyInAnyOrderElementsOf(probes);
    for (Probe probe : probes) {
      if (probe.site != Probe.Site.ENTRY) {
        // Every CALL of the callee in the function has its site (chanrecv clears memory three times).
        long calls = Commands.run(List.of("go", "tool", "objdump", "-s", "^" + quoteMeta(probe.function) + "$", binary.toString())).lines()
            .filter(l -> l.contains("CALL " + probe.callee + "(SB)")).count();
        assertThat(p.sites(probe)).as("sites of %s", probe).hasSize((int) calls);
      }
    }
    for (GoProgram.ProbeSite site : p.sites().stream().filter(s -> probes.contains(s.probe())).toList()) {
      Probe probe = site.probe();
      List<String> dump = Commands.run(List.of("go", "tool", "objdump", "-s", "^" + quoteMeta(probe.function) + "$", binary.toString())).lines().toList();
      int at = -1;
      for (int i = 0; i < dump.size(); i++) {
        if (dump.get(i).contains(String.format("0x%x\t", site.address()))) {
          at = i;
        }
      }
      assertThat(at).as("%s at 0x%x in objdump", probe, site.address()).isPositive();
      String instruction = dump.get(at);
      switch (probe.site) {
        case ENTRY -> assertThat(instruction).as(probe.function).contains("JBE");
        case CALL -> assertThat(instruction).contains("CALL " + probe.callee + "(SB)");
        case AFTER_CALL -> assertThat(dump.get(at - 1)).contains("CALL " + probe.callee + "(SB)");
      }
      // The function stores each argument the probe reads into the slot it reads (same frame).
      List<String> registers = List.of("AX", "BX", "CX", "DI", "SI");
      assertThat(site.argumentSlots()).hasSameSizeAs(probe.spilledArguments());
      for (int i = 0; i < site.argumentSlots().size(); i++) {
        String store = String.format("MOVQ %s, 0x%x(SP)", registers.get(probe.spilledArguments().get(i)), site.argumentSlots().get(i));
        assertThat(dump).as("%s in %s", store, probe.function).anyMatch(l -> l.contains(store));
      }
      // The file offset holds the same bytes as the address.
      try (RandomAccessFile f = new RandomAccessFile(binary.toFile(), "r")) {
        f.seek(site.fileOffset());
        String hex = String.format("%02x", f.read());
        assertThat(instruction.trim().split("\\s+")[2]).as("first byte of %s", probe).startsWith(hex);
      }
    }
  }

  @Test
  void aStrippedBinaryGetsTheOffsetsOfItsReleaseFromTheTable() {
    GoProgram stripped = GoProgram.inspect(Examples.binary("shop-stripped"));
    GoProgram full = GoProgram.inspect(SHOP);
    assertThat(stripped.offsetSource()).startsWith("the go1.26.").endsWith(" offset table");
    assertThat(stripped.offsets().fields()).isEqualTo(full.offsets().fields());
    assertThat(stripped.sites()).extracting(GoProgram.ProbeSite::probe)
        .containsExactlyInAnyOrderElementsOf(full.sites().stream().map(GoProgram.ProbeSite::probe).toList());
  }

  @Test
  void aStrippedBinaryOfAnUnknownPatchIsRefusedWithTheReason() {
    GoVersion old = GoVersion.parse("go1.26.0").orElseThrow();
    OffsetTable onlyOld = OffsetTable.parse(OffsetTable.format(Map.of(new OffsetTable.PatchRange(old, old), Map.of(GoField.G_GOID, 152)), List.of()));
    assertThatThrownBy(() -> GoProgram.inspect(Examples.binary("shop-stripped"), onlyOld))
        .isInstanceOf(UnsupportedBinaryException.class)
        .hasMessageContaining("without DWARF")
        .hasMessageContaining("covers go1.26 only up to go1.26.0")
        .hasMessageContaining("runtime.g");
  }

  /** A table that knows a release's runtime but not its channels: links off, with the reason; the rest on. */
  @Test
  void withoutChannelOffsetsLinksAreOffWithAWarning() {
    GoProgram full = GoProgram.inspect(SHOP);
    GoVersion version = GoVersion.parse(full.goVersion()).orElseThrow();
    Map<GoField, Integer> noChannels = new HashMap<>(full.offsets().fields());
    noChannels.keySet().removeIf(f -> f.struct().equals("runtime.hchan"));
    OffsetTable table = OffsetTable.parse(OffsetTable.format(Map.of(new OffsetTable.PatchRange(version, version), noChannels), List.of()));
    GoProgram p = GoProgram.inspect(Examples.binary("shop-stripped"), table);
    assertThat(p.warnings()).anyMatch(w -> w.contains("runtime.hchan") && w.contains("channel links are off"));
    assertThat(p.has(Probe.Feature.CHANNEL_LINKS)).isFalse();
    assertThat(p.offsets().has(GoOffsets.FEAT_CHAN_LINKS)).isFalse();
    assertThat(p.has(Probe.Feature.HTTP_SERVER)).isTrue();
    assertThat(full.has(Probe.Feature.CHANNEL_LINKS)).isTrue();
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

  /**
   * The gRPC server's offsets equal debug/dwarf's, and its server stream's layout is recognized in
   * each of grpc's three: a transport.Stream (v1.67), a ServerStream holding a *Stream (v1.75), and
   * one holding a Stream (v1.85), built by Go 1.26 and by Go 1.27, which writes no itab symbols.
   */
  @ParameterizedTest(name = "{0} with grpc {1}")
  @CsvSource({"go1.21.13, v1.67.3, false, false", "go1.23.12, v1.75.1, true, true", "go1.26.11, v1.85.0, true, false", "go1.27.4, v1.85.0, true, false"})
  void grpcServerOffsetsAndStreamLayoutComeFromDwarf(String go, String grpc, boolean serverStream, boolean pointer) {
    Path binary = GoBuilds.grpcBinary("grpcshop", new GoRelease(go), GoBuild.DEFAULT, grpc);
    GoProgram p = GoProgram.inspect(binary);
    List<GoField> grpcFields = java.util.Arrays.stream(GoField.values()).filter(f -> f.struct().startsWith("google.golang.org/") || f.struct().startsWith("golang.org/x/net")).toList();
    Map<String, Integer> expected = dwarfOffsets(binary, grpcFields.stream().map(GoField::qualifiedName).toArray(String[]::new));
    for (GoField f : grpcFields) {
      assertThat(p.offsets().offset(f)).as(f.qualifiedName()).isEqualTo(expected.getOrDefault(f.qualifiedName(), GoOffsets.UNKNOWN));
    }
    assertThat(p.offsets().offset(GoField.GRPC_SERVER_STREAM_STREAM) >= 0).as("a ServerStream").isEqualTo(serverStream);
    assertThat(p.offsets().has(GoOffsets.FEAT_GRPC_SERVER)).isTrue();
    assertThat(p.offsets().has(GoOffsets.FEAT_GRPC_STREAM_PTR)).as("it holds a *Stream").isEqualTo(pointer);
    assertThat(p.sites()).extracting(GoProgram.ProbeSite::probe)
        .contains(Probe.GRPC_SERVER_HEADERS, Probe.GRPC_SERVER_START, Probe.GRPC_SERVER_END, Probe.GRPC_CLIENT_INVOKE, Probe.GRPC_CLIENT_STREAM, Probe.GRPC_CLIENT_END);
    assertThat(p.offsets().has(GoOffsets.FEAT_GRPC_CLIENT)).isTrue();
    assertThat(p.offsets().grpcClientEnd().site()).isEqualTo(p.sites(Probe.GRPC_CLIENT_END).getFirst().address());
    assertThat(p.offsets().grpcClientEnd().statusErrorMethod()).isEqualTo(nmAddress(binary, "google.golang.org/grpc/internal/status.(*Error).Error"));
    assertThat(p.offsets().grpcClientEnd().errorStringMethod()).isEqualTo(nmAddress(binary, "errors.(*errorString).Error"));
    // The closure that a client stream starts to watch its context (objdump: the last closure it loads before CALL runtime.newproc) does not inherit.
    String watcher = null;
    for (String line : Commands.run(List.of("go", "tool", "objdump", "-s", "^google.golang.org/grpc.newClientStreamWithParams$", binary.toString())).lines().toList()) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("LEAQ (google.golang.org/grpc.newClientStreamWithParams.func\\d+)\\(SB\\)").matcher(line);
      if (m.find()) {
        watcher = m.group(1);
      }
      if (line.contains("CALL runtime.newproc(SB)")) {
        break;
      }
    }
    assertThat(watcher).as("the closure newClientStreamWithParams starts").isNotNull();
    assertThat(p.offsets().noInheritPcs()).contains(nmAddress(binary, watcher));
    assertThat(p.warnings()).noneMatch(w -> w.contains("gRPC"));
  }

  /** A symbol's address as go tool nm prints it. */
  private static long nmAddress(Path binary, String symbol) {
    return Commands.run(List.of("go", "tool", "nm", binary.toString())).lines().map(String::strip).filter(l -> l.endsWith(" " + symbol))
        .map(l -> Long.parseUnsignedLong(l.split("\\s+")[0], 16)).findFirst().orElseThrow();
  }

  /**
   * A stripped gRPC service gets from grpc's offset table what its DWARF would say: the same
   * offsets, features and probes as the build with DWARF, for each grpc layout.
   */
  @ParameterizedTest(name = "{0} with grpc {1}")
  @CsvSource({"go1.21.13, v1.67.3", "go1.23.12, v1.75.1", "go1.27.4, v1.85.0"})
  void aStrippedGrpcServiceGetsItsOffsetsFromGrpcsTable(String go, String grpc) {
    GoProgram full = GoProgram.inspect(GoBuilds.grpcBinary("grpcshop", new GoRelease(go), GoBuild.DEFAULT, grpc));
    GoProgram stripped = GoProgram.inspect(GoBuilds.grpcBinary("grpcshop", new GoRelease(go), GoBuild.STRIPPED_PIE_PURE, grpc));
    // (Go's table also knows the net/http structs that this build's DWARF lacks: it links no net/http server.)
    assertThat(stripped.offsets().fields()).containsAllEntriesOf(full.offsets().fields());
    int grpcFeatures = GoOffsets.FEAT_GRPC_SERVER | GoOffsets.FEAT_GRPC_STREAM_PTR | GoOffsets.FEAT_GRPC_CLIENT;
    assertThat(stripped.offsets().features() & grpcFeatures).isEqualTo(full.offsets().features() & grpcFeatures);
    assertThat(stripped.offsets().has(GoOffsets.FEAT_GRPC_SERVER)).isTrue();
    assertThat(stripped.offsets().has(GoOffsets.FEAT_GRPC_CLIENT)).isTrue();
    assertThat(stripped.sites()).extracting(GoProgram.ProbeSite::probe)
        .containsExactlyInAnyOrderElementsOf(full.sites().stream().map(GoProgram.ProbeSite::probe).toList());
    assertThat(stripped.warnings()).noneMatch(w -> w.contains("gRPC") || w.contains("grpc"));
  }

  /** A stripped gRPC service of a grpc the table lacks keeps its HTTP and runtime features, and is told why it has no gRPC spans. */
  @Test
  void aStrippedGrpcServiceOfAGrpcTheTableLacksIsToldWhy() {
    Path binary = GoBuilds.grpcBinary("grpcshop", new GoRelease("go1.26.11"), GoBuild.STRIPPED_PIE_PURE, "v1.85.0");
    GoVersion old = OffsetTable.Scheme.GRPC.parse("v1.67.0").orElseThrow();
    OffsetTable onlyOld = OffsetTable.parse(OffsetTable.Scheme.GRPC,
        OffsetTable.format(OffsetTable.Scheme.GRPC, Map.of(new OffsetTable.PatchRange(old, old), Map.of(GoField.GRPC_STREAM_ID, 8)), List.of()));
    GoProgram p = GoProgram.inspect(binary, OffsetTable.bundled(), onlyOld);
    assertThat(p.offsets().has(GoOffsets.FEAT_GRPC_SERVER)).isFalse();
    assertThat(p.offsets().has(GoOffsets.FEAT_GRPC_CLIENT)).isFalse();
    assertThat(p.sites()).extracting(GoProgram.ProbeSite::probe).doesNotContain(Probe.GRPC_SERVER_START, Probe.GRPC_CLIENT_INVOKE)
        .contains(Probe.EXECUTE, Probe.SPAWN);
    assertThat(p.warnings()).anyMatch(w -> w.contains("google.golang.org/grpc v1.85.0") && w.contains("covers v1.67.0 to v1.67.0")
        && w.contains("gRPC spans are off"));
  }

  @Test
  void aCProgramIsNotAGoProgram() {
    assertThatThrownBy(() -> GoProgram.inspect(Path.of("/bin/true")))
        .isInstanceOf(UnsupportedBinaryException.class)
        .hasMessageContaining("not a Go program");
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
      } else if (f[0].equals("size")) {
        offsets.put(f[1] + "." + GoField.SIZE, Integer.parseInt(f[2]));
      }
    }
    return offsets;
  }

  private static String quoteMeta(String s) {
    return s.replaceAll("([().*\\[\\]])", "\\\\$1");
  }
}
