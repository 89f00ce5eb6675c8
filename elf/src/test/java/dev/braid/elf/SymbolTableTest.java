package dev.braid.elf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.elf.peers.GoToolchain;
import dev.braid.elf.peers.Peers;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Function symbols against {@code go tool nm} and readelf. */
class SymbolTableTest {

  @Test
  void functionSymbolsEqualGoToolNmTextSymbols() {
    Path shop = Peers.example("shop");
    Set<String> expected = new HashSet<>();
    for (String line : GoToolchain.primary().tool(null, "nm", "-size", shop.toString()).split("\n")) {
      String[] f = line.trim().split("\\s+", 4);
      if (f.length == 4 && (f[2].equals("T") || f[2].equals("t"))) {
        expected.add(f[3] + " " + f[0] + " " + f[1]);
      }
    }
    try (ElfFile elf = ElfFile.open(shop)) {
      Set<String> actual = new HashSet<>();
      for (ElfSymbol s : elf.functionSymbols().symbols()) {
        actual.add(s.name() + " " + Long.toHexString(s.value()) + " " + s.size());
      }
      assertThat(actual).hasSizeGreaterThan(5000).isEqualTo(expected);
    }
  }

  @Test
  void symbolAtFindsPriceCart() {
    try (ElfFile elf = ElfFile.open(Peers.example("shop"))) {
      SymbolTable symbols = elf.functionSymbols();
      ElfSymbol priceCart = symbols.symbol("main.priceCart").orElseThrow();
      assertThat(priceCart.size()).isPositive();
      assertThat(symbols.symbolAt(priceCart.value())).contains(priceCart);
      assertThat(symbols.symbolAt(priceCart.value() + priceCart.size() - 1)).contains(priceCart);
      assertThat(symbols.symbolAt(priceCart.value() + priceCart.size()).map(ElfSymbol::name))
          .isNotEqualTo(java.util.Optional.of("main.priceCart"));
      assertThat(symbols.symbolAt(0x1000)).isEmpty();
    }
  }

  @Test
  void strippedGoBinaryHasOnlyItsDynamicFunctionSymbols() {
    try (ElfFile elf = ElfFile.open(Peers.example("shop-stripped"))) {
      assertThat(elf.functionSymbols().symbols()).extracting(ElfSymbol::name)
          .containsExactlyInAnyOrder("crosscall2", "_cgo_panic", "_cgo_topofstack");
      assertThat(elf.symbol("main.priceCart")).isEmpty();
    }
  }

  @Test
  void sharedLibraryIfuncsComeFromDynsym() {
    Path libc = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
    String readelf = Peers.run(List.of("readelf", "-W", "--dyn-syms", libc.toString()));
    String ifuncLine = readelf.lines().filter(l -> l.contains(" IFUNC ") && l.contains(" memcpy@")).findFirst()
        .orElseThrow();
    String[] f = ifuncLine.trim().split("\\s+");
    try (ElfFile elf = ElfFile.open(libc)) {
      ElfSymbol memcpy = elf.functionSymbols().symbol("memcpy").orElseThrow();
      assertThat(memcpy.value()).isEqualTo(Long.parseLong(f[1], 16));
      assertThat(elf.functionSymbols().symbolAt(memcpy.value() + 1)).contains(memcpy);
    }
  }

  @Test
  void zeroSizedSymbolExtendsToTheNextOne() {
    SymbolTable t = new SymbolTable(List.of(new ElfSymbol("b", 0x200, 0x10), new ElfSymbol("a", 0x100, 0),
        new ElfSymbol("last", 0x300, 0)), vaddr -> 0x380);
    assertThat(t.symbols()).extracting(ElfSymbol::name).containsExactly("a", "b", "last");
    assertThat(t.symbolAt(0x1ff).map(ElfSymbol::name)).contains("a");
    assertThat(t.symbolAt(0x20f).map(ElfSymbol::name)).contains("b");
    assertThat(t.symbolAt(0x210)).isEmpty();
    assertThat(t.symbolAt(0x37f).map(ElfSymbol::name)).contains("last");
    assertThat(t.symbolAt(0x380)).isEmpty();
    assertThat(t.symbolAt(0xff)).isEmpty();
  }

  @Test
  void aliasWithASizeCoversItsRange() {
    SymbolTable t = new SymbolTable(List.of(new ElfSymbol("label", 0x100, 0), new ElfSymbol("func", 0x100, 0x40),
        new ElfSymbol("next", 0x180, 8)), vaddr -> vaddr);
    assertThat(t.symbolAt(0x13f).map(ElfSymbol::name)).contains("func");
    assertThat(t.symbolAt(0x150).map(ElfSymbol::name)).contains("label");
  }
}
