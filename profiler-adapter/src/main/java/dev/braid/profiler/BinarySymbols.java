package dev.braid.profiler;

import dev.braid.elf.ElfException;
import dev.braid.elf.ElfFile;
import dev.braid.elf.SymbolTable;
import dev.braid.elf.go.GoFrame;
import dev.braid.elf.go.Pclntab;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Symbols of one ELF file: Go's pclntab (functions, files, lines, inlined calls) when it is a Go
 * binary, its ELF symbol tables otherwise. Owns the mapped file; thread-safe for lookups.
 */
final class BinarySymbols implements AutoCloseable {
  private final ElfFile elf;
  private final Pclntab pclntab; // null: not Go
  private final SymbolTable symbols;
  private final String buildId;

  private BinarySymbols(ElfFile elf, Pclntab pclntab, SymbolTable symbols, String buildId) {
    this.elf = elf;
    this.pclntab = pclntab;
    this.symbols = symbols;
    this.buildId = buildId;
  }

  /** Opens {@code path}; empty when it is not an ELF file braid can read. */
  static Optional<BinarySymbols> open(Path path) {
    ElfFile elf;
    try {
      elf = ElfFile.open(path);
    } catch (ElfException e) {
      return Optional.empty();
    }
    Pclntab pclntab = null;
    if (elf.section(".gopclntab").isPresent() || elf.section(".data.rel.ro.gopclntab").isPresent()) {
      try {
        pclntab = Pclntab.read(elf);
      } catch (ElfException e) {
        pclntab = null; // fall back to ELF symbols
      }
    }
    return Optional.of(new BinarySymbols(elf, pclntab, elf.functionSymbols(), elf.gnuBuildId().orElse("")));
  }

  /** The GNU build id of an ELF file, read without parsing its symbols; empty when it has none. */
  static Optional<String> buildIdOf(Path path) {
    try (ElfFile elf = ElfFile.open(path)) {
      return elf.gnuBuildId();
    } catch (ElfException e) {
      return Optional.empty();
    }
  }

  String buildId() {
    return buildId;
  }

  /** The link-time address that a file offset maps to. */
  OptionalLong addressOfFileOffset(long fileOffset) {
    return elf.addressOfFileOffset(fileOffset);
  }

  /** pclntab's stack pointer delta at a link-time address in Go code; empty elsewhere. */
  OptionalInt spDelta(long address) {
    return pclntab == null ? OptionalInt.empty() : pclntab.spDelta(address);
  }

  /**
   * The location of {@code pc}, at link-time {@code address} of this file: Go frames (inlined
   * calls included, innermost first) from pclntab, else the ELF symbol that holds it.
   */
  Location location(long pc, Mapping mapping, long address) {
    if (pclntab != null) {
      List<GoFrame> frames = pclntab.frames(address);
      if (!frames.isEmpty()) {
        List<Line> lines = new ArrayList<>(frames.size());
        for (GoFrame f : frames) {
          lines.add(new Line(f.function(), f.file(), f.line()));
        }
        return new Location(pc, mapping, lines, Location.Kind.GO);
      }
    }
    List<Line> lines = symbols.symbolAt(address).map(s -> List.of(new Line(s.name(), "", 0))).orElse(List.of());
    return new Location(pc, mapping, lines, Location.Kind.NATIVE);
  }

  @Override
  public void close() {
    elf.close();
  }
}
