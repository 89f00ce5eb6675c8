package dev.braid.elf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Inflates compressed debug sections: {@code SHF_COMPRESSED} ones (an Elf64_Chdr, then a zlib stream; what Go's
 * linker writes since Go 1.12) and legacy {@code .zdebug_*} ones ("ZLIB", an 8-byte big-endian size, then a zlib
 * stream; Go 1.11).
 */
final class SectionDecompressor {
  private static final int ELFCOMPRESS_ZLIB = 1;
  private static final int ELFCOMPRESS_ZSTD = 2;
  private static final int CHDR_SIZE = 24;
  private static final int ZDEBUG_HEADER_SIZE = 12;

  private SectionDecompressor() {}

  /** Whether {@code stored} (the section's file bytes) needs {@link #inflate}. */
  static boolean isCompressed(Section section, ByteBuffer stored) {
    return (section.flags() & Section.SHF_COMPRESSED) != 0 || isZdebug(section, stored);
  }

  private static boolean isZdebug(Section section, ByteBuffer stored) {
    return section.name().startsWith(".zdebug_") && stored.remaining() >= ZDEBUG_HEADER_SIZE
        && stored.get(0) == 'Z' && stored.get(1) == 'L' && stored.get(2) == 'I' && stored.get(3) == 'B';
  }

  /** Inflates a compressed section into a new little-endian heap buffer of exactly the uncompressed size. */
  static ByteBuffer inflate(Path path, Section section, ByteBuffer stored) {
    long size;
    int dataStart;
    if ((section.flags() & Section.SHF_COMPRESSED) != 0) {
      if (stored.remaining() < CHDR_SIZE) {
        throw new ElfException(path, "section " + section.name() + ": truncated compression header");
      }
      int chType = stored.getInt(0);
      if (chType == ELFCOMPRESS_ZSTD) {
        throw new ElfException(path, "section " + section.name() + ": zstd compression is not supported (only zlib)");
      }
      if (chType != ELFCOMPRESS_ZLIB) {
        throw new ElfException(path, "section " + section.name() + ": unknown compression type " + chType);
      }
      size = stored.getLong(8);
      dataStart = CHDR_SIZE;
    } else {
      size = stored.order() == ByteOrder.BIG_ENDIAN ? stored.getLong(4) : Long.reverseBytes(stored.getLong(4));
      dataStart = ZDEBUG_HEADER_SIZE;
    }
    if (size < 0 || size > Integer.MAX_VALUE - 16) {
      throw new ElfException(path, "section " + section.name() + ": uncompressed size " + size + " is too large");
    }
    byte[] out = new byte[(int) size];
    Inflater inflater = new Inflater();
    try {
      inflater.setInput(stored.slice(dataStart, stored.remaining() - dataStart));
      int n = 0;
      while (n < out.length) {
        int got = inflater.inflate(out, n, out.length - n);
        if (got == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
          break;
        }
        n += got;
      }
      if (n != out.length) {
        throw new ElfException(path, "section " + section.name() + ": zlib data inflates to " + n
            + " bytes, header says " + size);
      }
    } catch (DataFormatException e) {
      throw new ElfException(path, "section " + section.name() + ": corrupt zlib data", e);
    } finally {
      inflater.end();
    }
    return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }
}
