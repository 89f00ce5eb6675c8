package dev.braid.elf;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.IntStream;

/**
 * The {@code R_X86_64_RELATIVE} relocations of a file: the pointer slots a position-independent executable's
 * loader fills with {@code load bias + addend}. Linkers do not always write the addend into the slot itself
 * (RELA keeps it in the relocation; Go's internal linker happens to write both, lld by default does not), so
 * reading a pointer of a PIE from its file bytes alone may give 0.
 *
 * <p>Immutable and safe for concurrent readers; holds no reference to the mapping.
 */
public final class RelativeRelocations {
  private static final int R_X86_64_RELATIVE = 8;
  private static final int RELA_SIZE = 24;

  private final long[] sites;
  private final long[] addends;

  private RelativeRelocations(long[] sites, long[] addends) {
    this.sites = sites;
    this.addends = addends;
  }

  static RelativeRelocations read(MemorySegment image, List<Section> sections) {
    List<long[]> pairs = new ArrayList<>();
    for (Section s : sections) {
      if (s.type() != Section.SHT_RELA) {
        continue;
      }
      for (long p = s.offset(); p + RELA_SIZE <= s.offset() + s.size(); p += RELA_SIZE) {
        if ((Le.i64(image, p + 8) & 0xffffffffL) == R_X86_64_RELATIVE) {
          pairs.add(new long[] {Le.i64(image, p), Le.i64(image, p + 16)});
        }
      }
    }
    pairs.sort((a, b) -> Long.compare(a[0], b[0]));
    long[] sites = new long[pairs.size()];
    long[] addends = new long[pairs.size()];
    for (int i = 0; i < sites.length; i++) {
      sites[i] = pairs.get(i)[0];
      addends[i] = pairs.get(i)[1];
    }
    return new RelativeRelocations(sites, addends);
  }

  /** The number of relative relocations. */
  public int size() {
    return sites.length;
  }

  /** The link-time value the loader stores at {@code vaddr} (before adding the load bias), if a relocation says. */
  public OptionalLong addendAt(long vaddr) {
    int i = Arrays.binarySearch(sites, vaddr);
    return i >= 0 ? OptionalLong.of(addends[i]) : OptionalLong.empty();
  }

  /** The addresses of every slot whose relocated value is {@code target} (link-time), in address order. */
  public long[] slotsPointingTo(long target) {
    return IntStream.range(0, sites.length)
        .filter(i -> addends[i] == target)
        .mapToLong(i -> sites[i])
        .toArray();
  }
}
