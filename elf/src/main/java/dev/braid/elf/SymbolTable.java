package dev.braid.elf;

import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongUnaryOperator;

/**
 * The function symbols of one ELF file ({@code STT_FUNC} and {@code STT_GNU_IFUNC} from {@code .symtab} and
 * {@code .dynsym}, merged), sorted by address.
 *
 * <p>Immutable and safe for any number of concurrent readers; it holds no reference to the file's mapping, so it
 * stays usable after the {@link ElfFile} is closed.
 */
public final class SymbolTable {
  private static final Comparator<ElfSymbol> ORDER =
      Comparator.comparingLong(ElfSymbol::value)
          .thenComparing(Comparator.comparingLong(ElfSymbol::size).reversed())
          .thenComparing(ElfSymbol::name);

  private final List<ElfSymbol> symbols;
  private final long[] starts;
  private final long[] ends;
  private final Map<String, ElfSymbol> byName;

  /**
   * @param symbols defined function symbols, in any order, without duplicates
   * @param sectionEnd gives, for an address, the end of the section that holds it (or the address itself when
   *     none does): the bound of a last symbol whose size is 0
   */
  SymbolTable(List<ElfSymbol> symbols, LongUnaryOperator sectionEnd) {
    ElfSymbol[] sorted = symbols.toArray(ElfSymbol[]::new);
    Arrays.sort(sorted, ORDER);
    this.symbols = List.of(sorted);
    this.starts = new long[sorted.length];
    this.ends = new long[sorted.length];
    Map<String, ElfSymbol> names = new HashMap<>();
    for (int i = 0; i < sorted.length; i++) {
      starts[i] = sorted[i].value();
      names.putIfAbsent(sorted[i].name(), sorted[i]);
    }
    for (int i = 0; i < sorted.length; i++) {
      ends[i] = sorted[i].size() > 0 ? sorted[i].value() + sorted[i].size() : implicitEnd(i, sectionEnd);
    }
    this.byName = Collections.unmodifiableMap(names);
  }

  private long implicitEnd(int i, LongUnaryOperator sectionEnd) {
    for (int j = i + 1; j < starts.length; j++) {
      if (starts[j] > starts[i]) {
        return starts[j];
      }
    }
    return sectionEnd.applyAsLong(starts[i]);
  }

  /** All function symbols, sorted by address (then larger size first, then name). */
  public List<ElfSymbol> symbols() {
    return symbols;
  }

  /** The number of function symbols. */
  public int size() {
    return symbols.size();
  }

  /**
   * The function that contains {@code vaddr} (a link-time address): the symbol with the greatest start at or
   * below it whose extent covers it. A symbol of size 0 extends to the next symbol's start.
   */
  public Optional<ElfSymbol> symbolAt(long vaddr) {
    int i = Arrays.binarySearch(starts, vaddr);
    if (i < 0) {
      i = -i - 2;
    } else {
      while (i + 1 < starts.length && starts[i + 1] == vaddr) {
        i++;
      }
    }
    if (i < 0) {
      return Optional.empty();
    }
    // Aliases share a start and are sorted larger size first: the first one that covers vaddr wins.
    int first = i;
    while (first > 0 && starts[first - 1] == starts[i]) {
      first--;
    }
    for (int j = first; j <= i; j++) {
      if (vaddr < ends[j]) {
        return Optional.of(symbols.get(j));
      }
    }
    return Optional.empty();
  }

  /** The function symbol called {@code name} (the lowest-addressed one if several share the name). */
  public Optional<ElfSymbol> symbol(String name) {
    return Optional.ofNullable(byName.get(name));
  }
}
