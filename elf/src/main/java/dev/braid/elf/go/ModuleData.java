package dev.braid.elf.go;

import dev.braid.elf.ElfFile;
import dev.braid.elf.Section;
import java.nio.ByteBuffer;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The fields braid needs from runtime.firstmoduledata, found without symbols so that stripped binaries work.
 *
 * <p>moduledata begins with a pointer to the pcHeader, then the slices funcnametab, cutab, filetab, pctab,
 * pclntable and ftab (each ptr/len/cap, pointing into the pclntab), findfunctab, minpc, maxpc, text, etext
 * (runtime/symtab.go; stable from Go 1.18 to 1.26). Every candidate word that points at the pclntab is checked
 * against all of these before it is trusted. In a PIE the pointers are {@code R_X86_64_RELATIVE} slots, read through
 * {@link ElfFile#pointerAt}. Older linkers (Go 1.19 checked) put moduledata in {@code .noptrdata}; Go 1.26 gives it
 * a {@code .go.module} section of its own. Both are scanned, symbols or not.
 *
 * @param address link-time address of the moduledata
 * @param text moduledata.text, the base of every function entry offset
 * @param gofunc moduledata.gofunc, the base of funcdata offsets (go:func.*)
 */
record ModuleData(long address, long text, long etext, long gofunc) {
  private static final int FUNCNAMETAB = 8;
  private static final int CUTAB = 32;
  private static final int FILETAB = 56;
  private static final int PCTAB = 80;
  private static final int PCLNTABLE = 104;
  private static final int FTAB = 128;
  private static final int FTAB_LEN = 136;
  private static final int TEXT = 176;
  private static final int ETEXT = 184;

  /** Finds and checks the moduledata whose pcHeader is the pclntab at {@code pclntab}. */
  static Optional<ModuleData> find(ElfFile elf, long pclntab, PclnHeader header) {
    for (long candidate : candidates(elf, pclntab)) {
      Optional<ModuleData> md = check(elf, candidate, pclntab, header);
      if (md.isPresent()) {
        return md;
      }
    }
    return Optional.empty();
  }

  private static Set<Long> candidates(ElfFile elf, long pclntab) {
    Set<Long> out = new LinkedHashSet<>();
    elf.symbol("runtime.firstmoduledata").ifPresent(s -> out.add(s.value()));
    elf.section(".go.module").ifPresent(s -> out.add(s.address()));
    for (long slot : elf.relativeRelocations().slotsPointingTo(pclntab)) {
      out.add(slot);
    }
    for (Section s : elf.sections()) {
      boolean data = (s.flags() & Section.SHF_ALLOC) != 0 && (s.flags() & Section.SHF_WRITE) != 0
          && (s.flags() & Section.SHF_EXECINSTR) == 0 && !s.isNoBits() && s.size() > 0;
      if (data) {
        scan(elf.sectionData(s), s.address(), pclntab, out);
      }
    }
    return out;
  }

  private static void scan(ByteBuffer data, long base, long target, Set<Long> out) {
    // moduledata is pointer-aligned; its first word is the pcHeader pointer.
    int first = (int) (-base & 7);
    for (int i = first; i + 8 <= data.limit(); i += 8) {
      if (data.getLong(i) == target) {
        out.add(base + i);
      }
    }
  }

  private static Optional<ModuleData> check(ElfFile elf, long md, long pclntab, PclnHeader h) {
    boolean ok = is(elf.pointerAt(md), pclntab)
        && is(elf.pointerAt(md + FUNCNAMETAB), pclntab + h.funcnameOffset())
        && is(elf.pointerAt(md + CUTAB), pclntab + h.cuOffset())
        && is(elf.pointerAt(md + FILETAB), pclntab + h.filetabOffset())
        && is(elf.pointerAt(md + PCTAB), pclntab + h.pctabOffset())
        && is(elf.pointerAt(md + PCLNTABLE), pclntab + h.pclnOffset())
        && is(elf.pointerAt(md + FTAB), pclntab + h.pclnOffset())
        && is(elf.pointerAt(md + FTAB_LEN), h.nfunc() + 1L);
    if (!ok) {
      return Optional.empty();
    }
    long text = elf.pointerAt(md + TEXT).orElse(0);
    long etext = elf.pointerAt(md + ETEXT).orElse(0);
    long gofunc = elf.pointerAt(md + h.format().moduledataGofuncOffset).orElse(0);
    if (text == 0 || Long.compareUnsigned(etext, text) < 0) {
      return Optional.empty();
    }
    return Optional.of(new ModuleData(md, text, etext, gofunc));
  }

  private static boolean is(OptionalLong value, long expected) {
    return value.isPresent() && value.getAsLong() == expected;
  }
}
