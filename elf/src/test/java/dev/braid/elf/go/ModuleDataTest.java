package dev.braid.elf.go;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.elf.ElfFile;
import dev.braid.elf.ElfSymbol;
import dev.braid.elf.peers.GoToolchain;
import dev.braid.elf.peers.PeerPrograms;
import dev.braid.elf.peers.Peers;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** moduledata found without symbols agrees with the linker's own symbols in binaries that still have them. */
class ModuleDataTest {

  static Stream<Path> binariesWithSymbols() {
    Stream<Path> examples = Stream.of(Peers.example("shop"), Peers.example("shop-pie"));
    Stream<Path> peers = GoToolchain.all().stream().flatMap(go -> Stream.of(
        PeerPrograms.build(go, "inlinepeer", List.of()),
        PeerPrograms.build(go, "inlinepeer", List.of("-buildmode=pie"))));
    return Stream.concat(examples, peers);
  }

  @ParameterizedTest
  @MethodSource("binariesWithSymbols")
  void moduleDataMatchesTheLinkersSymbols(Path binary) {
    try (ElfFile elf = ElfFile.open(binary)) {
      PclntabSource source = PclntabSource.locate(elf).orElseThrow();
      PclnHeader header = PclnHeader.parse(binary, source.data());
      ModuleData md = ModuleData.find(elf, source.address(), header).orElseThrow();
      assertThat(md.address()).isEqualTo(value(elf, "runtime.firstmoduledata"));
      assertThat(md.text()).isEqualTo(value(elf, "runtime.text"));
      assertThat(md.etext()).isEqualTo(value(elf, "runtime.etext"));
      String gofunc = header.format() == PclnFormat.GO118 ? "go.func.*" : "go:func.*";
      assertThat(md.gofunc()).isEqualTo(value(elf, gofunc));
    }
  }

  private static long value(ElfFile elf, String symbol) {
    return elf.symbol(symbol).map(ElfSymbol::value).orElseThrow(() -> new AssertionError("no symbol " + symbol));
  }
}
