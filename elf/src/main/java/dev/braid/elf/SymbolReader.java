package dev.braid.elf;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Consumer;

/** Walks the Elf64_Sym entries of one {@code SHT_SYMTAB} or {@code SHT_DYNSYM} section. */
final class SymbolReader {
  static final int STT_OBJECT = 1;
  static final int STT_FUNC = 2;
  static final int STT_GNU_IFUNC = 10;
  private static final int SYM_SIZE = 24;
  private static final int SHN_UNDEF = 0;

  /** A defined symbol as stored: {@code type} is {@code st_info & 0xf}. */
  record RawSymbol(String name, int type, long value, long size) {}

  private SymbolReader() {}

  /** Calls {@code sink} for every defined, named symbol of {@code table} (whose names live in {@code strings}). */
  static void forEachDefined(MemorySegment image, Section table, Section strings, Consumer<RawSymbol> sink) {
    long count = table.size() / SYM_SIZE;
    long stringsEnd = strings.offset() + strings.size();
    // Entry 0 is the reserved null symbol.
    for (long i = 1; i < count; i++) {
      long p = table.offset() + i * SYM_SIZE;
      long nameOffset = Le.u32(image, p);
      int info = Le.u8(image, p + 4);
      int shndx = Le.u16(image, p + 6);
      if (shndx == SHN_UNDEF || nameOffset == 0 || strings.offset() + nameOffset >= stringsEnd) {
        continue;
      }
      String name = Le.cstring(image, strings.offset() + nameOffset, stringsEnd);
      sink.accept(new RawSymbol(name, info & 0xf, Le.i64(image, p + 8), Le.i64(image, p + 16)));
    }
  }

  /** The first defined symbol of {@code table} whose name is exactly {@code name} (UTF-8), compared in place. */
  static Optional<ElfSymbol> find(MemorySegment image, Section table, Section strings, byte[] name) {
    long count = table.size() / SYM_SIZE;
    long stringsEnd = strings.offset() + strings.size();
    MemorySegment wanted = MemorySegment.ofArray(name);
    for (long i = 1; i < count; i++) {
      long p = table.offset() + i * SYM_SIZE;
      long at = strings.offset() + Le.u32(image, p);
      if (Le.u16(image, p + 6) == SHN_UNDEF || at + name.length >= stringsEnd) {
        continue;
      }
      // Equal names: the bytes match and the table's string ends right there.
      if (MemorySegment.mismatch(image, at, at + name.length, wanted, 0, name.length) == -1
          && Le.u8(image, at + name.length) == 0) {
        return Optional.of(new ElfSymbol(new String(name, StandardCharsets.UTF_8),
            Le.i64(image, p + 8), Le.i64(image, p + 16)));
      }
    }
    return Optional.empty();
  }
}
