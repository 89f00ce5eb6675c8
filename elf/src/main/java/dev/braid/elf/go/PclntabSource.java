package dev.braid.elf.go;

import dev.braid.elf.ElfException;
import dev.braid.elf.ElfFile;
import dev.braid.elf.ElfSymbol;
import dev.braid.elf.Section;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Where a binary's pclntab is, tried in this order: the {@code .gopclntab} section (Go's internal linker, PIE
 * included); {@code .data.rel.ro.gopclntab} (PIE linked externally while the header's textStart needed a
 * relocation); the {@code runtime.pclntab}..{@code runtime.epclntab} symbols; and, for a stripped PIE linked
 * externally by an older Go (1.19 checked), whose pclntab the system linker merged into {@code .data.rel.ro}, a
 * scan of the read-only data for a pcHeader magic that a moduledata points at (the moduledata checks make a false
 * match practically impossible).
 *
 * @param address link-time address of the pcHeader
 * @param data the pclntab, to the end of its section or symbol
 * @param moduleData the moduledata, when finding the pclntab already required it
 */
record PclntabSource(long address, ByteBuffer data, Optional<ModuleData> moduleData) {
  static Optional<PclntabSource> locate(ElfFile elf) {
    for (String name : new String[] {".gopclntab", ".data.rel.ro.gopclntab"}) {
      Optional<Section> s = elf.section(name);
      if (s.isPresent() && !s.get().isNoBits() && s.get().size() > 0) {
        return Optional.of(new PclntabSource(s.get().address(), elf.sectionData(s.get()), Optional.empty()));
      }
    }
    Optional<ElfSymbol> start = elf.symbol("runtime.pclntab");
    Optional<ElfSymbol> end = elf.symbol("runtime.epclntab");
    if (start.isPresent() && end.isPresent() && end.get().value() > start.get().value()) {
      long address = start.get().value();
      return elf.bytesAt(address, end.get().value() - address)
          .map(data -> new PclntabSource(address, data, Optional.empty()));
    }
    return scan(elf);
  }

  private static Optional<PclntabSource> scan(ElfFile elf) {
    if (elf.section(".go.buildinfo").isEmpty()) {
      return Optional.empty(); // not Go: do not scan a large C binary for nothing
    }
    for (Section s : elf.sections()) {
      boolean data = (s.flags() & Section.SHF_ALLOC) != 0 && (s.flags() & Section.SHF_EXECINSTR) == 0
          && !s.isNoBits() && s.size() > PclnHeader.SIZE;
      if (!data) {
        continue;
      }
      ByteBuffer bytes = elf.sectionData(s);
      for (int i = (int) (-s.address() & 7); i + PclnHeader.SIZE <= bytes.limit(); i += 8) {
        if (!looksLikeHeader(bytes, i)) {
          continue;
        }
        ByteBuffer tail = bytes.slice(i, bytes.limit() - i).order(ByteOrder.LITTLE_ENDIAN);
        long address = s.address() + i;
        try {
          PclnHeader header = PclnHeader.parse(elf.path(), tail);
          Optional<ModuleData> md = ModuleData.find(elf, address, header);
          if (md.isPresent()) {
            return Optional.of(new PclntabSource(address, tail, md));
          }
        } catch (ElfException e) {
          // Not a pcHeader after all: keep looking.
        }
      }
    }
    return Optional.empty();
  }

  /** Go 1.18+ pcHeader: magic 0xfffffff0/0xfffffff1, two zero pads, quantum 1 (amd64), pointer size 8. */
  private static boolean looksLikeHeader(ByteBuffer b, int i) {
    int magic = b.getInt(i);
    return (magic == PclnFormat.GO118.magic || magic == PclnFormat.GO120.magic) && b.getInt(i + 4) == 0x08010000;
  }
}
