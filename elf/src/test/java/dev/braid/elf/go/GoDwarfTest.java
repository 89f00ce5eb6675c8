package dev.braid.elf.go;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.elf.ElfFile;
import dev.braid.elf.peers.GoToolchain;
import dev.braid.elf.peers.PeerPrograms;
import dev.braid.elf.peers.Peers;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** GoDwarf against Go's own debug/dwarf (src/test/go/dwarfpeer). */
class GoDwarfTest {
  /** The structs braid's probes read, plus a few more. runtime.hmap exists only before Go 1.24's swiss maps. */
  private static final List<String> STRUCTS = List.of("runtime.g", "runtime.m", "runtime.p", "runtime.hchan",
      "runtime.sudog", "runtime.hmap", "net/http.Request", "net/url.URL", "net/http.response", "net/http.conn",
      "internal/runtime/maps.Map", "internal/runtime/maps.table", "internal/runtime/maps.groupsReference",
      "debug/dwarf.Entry", "debug/elf.Section");

  @TempDir Path tmp;

  /** Compares every member and size debug/dwarf reports for STRUCTS; returns how many lines were compared. */
  static int compareWithDebugDwarf(Path binary) {
    List<String> command = new ArrayList<>(List.of(PeerPrograms.dwarfpeer().toString(), binary.toString()));
    command.addAll(STRUCTS);
    String[] lines = Peers.run(command).split("\n");
    try (ElfFile elf = ElfFile.open(binary)) {
      GoDwarf dwarf = GoDwarf.read(elf).orElseThrow();
      for (String line : lines) {
        String[] f = line.split(" ");
        if (f[0].equals("size")) {
          assertThat(dwarf.structSize(f[1])).as(line).hasValue(Long.parseLong(f[2]));
        } else {
          assertThat(dwarf.memberOffset(f[1], f[2])).as(line).hasValue(Long.parseLong(f[3]));
        }
      }
    }
    return lines.length;
  }

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-pie", "loadgen"})
  void memberOffsetsMatchDebugDwarf(String example) {
    assertThat(compareWithDebugDwarf(Peers.example(example))).isGreaterThan(150);
    try (ElfFile elf = ElfFile.open(Peers.example(example))) {
      GoDwarf dwarf = GoDwarf.read(elf).orElseThrow();
      assertThat(dwarf.memberOffset("runtime.g", "goid")).isPresent();
      assertThat(dwarf.memberOffset("net/http.Request", "Method")).hasValue(0);
    }
  }

  static Stream<Arguments> dwarfFlavours() {
    List<Arguments> out = new ArrayList<>();
    for (GoToolchain go : GoToolchain.all()) {
      out.add(Arguments.of(go, "default", List.of(), Map.of()));
      out.add(Arguments.of(go, "uncompressed", List.of("-ldflags=-compressdwarf=false"), Map.of()));
    }
    // Go 1.25+ writes DWARF 5; this experiment brings back DWARF 4 (rebuilds the standard library once, ~10 s).
    out.add(Arguments.of(GoToolchain.primary(), "dwarf4", List.of(), Map.of("GOEXPERIMENT", "nodwarf5")));
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("dwarfFlavours")
  void everyDwarfFlavourMatchesDebugDwarf(GoToolchain go, String flavour, List<String> flags, Map<String, String> env) {
    Path binary = go.build(PeerPrograms.source("dwarfpeer"), tmp.resolve("peer-" + flavour), flags, env);
    try (ElfFile elf = ElfFile.open(binary)) {
      ByteBuffer info = elf.sectionData(elf.section(".debug_info").orElseThrow());
      int version = info.getShort(4);
      if (flavour.equals("dwarf4")) {
        assertThat(version).isEqualTo(4);
      }
      assertThat(version).isBetween(4, 5);
    }
    assertThat(compareWithDebugDwarf(binary)).isGreaterThan(30);
  }

  @Test
  void legacyZdebugSectionsAreRead() {
    Path plain = tmp.resolve("plain");
    Path zdebug = tmp.resolve("zdebug");
    Peers.run(List.of("objcopy", "--decompress-debug-sections", Peers.example("shop").toString(), plain.toString()));
    Peers.run(List.of("objcopy", "--compress-debug-sections=zlib-gnu", plain.toString(), zdebug.toString()));
    try (ElfFile elf = ElfFile.open(zdebug)) {
      assertThat(elf.section(".zdebug_info")).isPresent();
    }
    assertThat(compareWithDebugDwarf(zdebug)).isGreaterThan(150);
  }

  @Test
  void binariesWithoutDwarfHaveNone() {
    try (ElfFile stripped = ElfFile.open(Peers.example("shop-stripped"));
        ElfFile system = ElfFile.open(Path.of("/bin/true"))) {
      assertThat(GoDwarf.read(stripped)).isEmpty();
      assertThat(GoDwarf.read(system)).isEmpty();
    }
  }

  @Test
  void unknownStructOrMemberIsEmpty() {
    try (ElfFile elf = ElfFile.open(Peers.example("shop"))) {
      GoDwarf dwarf = GoDwarf.read(elf).orElseThrow();
      assertThat(dwarf.memberOffset("runtime.g", "noSuchField")).isEmpty();
      assertThat(dwarf.memberOffset("main.noSuchType", "x")).isEmpty();
      assertThat(dwarf.structSize("main.noSuchType")).isEmpty();
    }
  }

  @Test
  void concurrentFirstLookupsAgree() throws Exception {
    try (ElfFile elf = ElfFile.open(Peers.example("shop")); var pool = Executors.newFixedThreadPool(4)) {
      GoDwarf dwarf = GoDwarf.read(elf).orElseThrow();
      Callable<Long> lookup = () -> dwarf.memberOffset("runtime.g", "goid").orElseThrow();
      List<Future<Long>> results = pool.invokeAll(List.of(lookup, lookup, lookup, lookup));
      for (Future<Long> r : results) {
        assertThat(r.get()).isEqualTo(results.getFirst().get());
      }
    }
  }
}
