package dev.braid.elf.go;

/**
 * A function of a Go binary's pclntab: its name exactly as the pclntab stores it (e.g. "main.priceCart",
 * "net/http.(*conn).serve", "slices.Sort[go.shape.int]"; {@code go tool nm} shows the same, but spells '\u00b7' as
 * '.' and adds ".abi0" to assembly functions), and its link-time address range [entry, end).
 */
public record GoFunction(String name, long entry, long end) {
  /** Whether link-time address {@code pc} lies in [entry, end). */
  public boolean contains(long pc) {
    return pc >= entry && pc < end;
  }
}
