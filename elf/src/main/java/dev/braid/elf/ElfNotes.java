package dev.braid.elf;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Optional;

/** Reads ELF note records (Elf64_Nhdr: namesz, descsz, type; name and desc each padded to the note alignment). */
final class ElfNotes {
  private static final int NT_GNU_BUILD_ID = 3;

  private ElfNotes() {}

  /** The hex of the first {@code NT_GNU_BUILD_ID} note owned by "GNU" in {@code notes}, if any. */
  static Optional<String> gnuBuildId(ByteBuffer notes, long alignment) {
    int align = alignment == 8 ? 8 : 4;
    int p = 0;
    int end = notes.limit();
    while (p + 12 <= end) {
      long nameSize = Integer.toUnsignedLong(notes.getInt(p));
      long descSize = Integer.toUnsignedLong(notes.getInt(p + 4));
      int type = notes.getInt(p + 8);
      long nameStart = p + 12L;
      long descStart = nameStart + pad(nameSize, align);
      long next = descStart + pad(descSize, align);
      if (descStart + descSize > end) {
        return Optional.empty();
      }
      if (type == NT_GNU_BUILD_ID && nameSize == 4 && notes.get((int) nameStart) == 'G'
          && notes.get((int) nameStart + 1) == 'N' && notes.get((int) nameStart + 2) == 'U' && descSize > 0) {
        byte[] id = new byte[(int) descSize];
        notes.get((int) descStart, id);
        return Optional.of(HexFormat.of().formatHex(id));
      }
      p = (int) Math.min(next, end);
    }
    return Optional.empty();
  }

  private static long pad(long n, int align) {
    return (n + align - 1) & -align;
  }
}
