package dev.braid.elf.go;

import dev.braid.elf.ElfException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * runtime.pcHeader of Go 1.18+: magic, two zero pads, minLC (the pc quantum), ptrSize, then eight pointer-size
 * words: nfunc, nfiles, textStart (0 from recent linkers, Go 1.26 included, which stopped storing it because it
 * needed a relocation), and the offsets from the header of funcnametab, cutab, filetab, pctab and pclntable (which
 * begins with the functab).
 */
record PclnHeader(PclnFormat format, int quantum, int nfunc, long nfiles, long textStart, int funcnameOffset,
    int cuOffset, int filetabOffset, int pctabOffset, int pclnOffset) {
  static final int SIZE = 8 + 8 * 8;
  static final int TEXT_START_OFFSET = 8 + 2 * 8;

  static PclnHeader parse(Path file, ByteBuffer data) {
    if (data.limit() < 8) {
      throw new ElfException(file, "malformed pclntab: " + data.limit() + " bytes");
    }
    int magic = data.getInt(0);
    PclnFormat format = PclnFormat.ofMagic(magic).orElseThrow(() -> unsupportedMagic(file, magic));
    int quantum = Byte.toUnsignedInt(data.get(6));
    int ptrSize = Byte.toUnsignedInt(data.get(7));
    if (data.get(4) != 0 || data.get(5) != 0 || ptrSize != 8 || quantum == 0 || data.limit() < SIZE) {
      throw new ElfException(file, "malformed pclntab header (pad " + data.get(4) + "/" + data.get(5) + ", quantum "
          + quantum + ", pointer size " + ptrSize + ")");
    }
    long nfunc = data.getLong(8);
    int pclnOffset = offset(file, data, 64);
    if (nfunc < 0 || nfunc > Integer.MAX_VALUE / 8 || pclnOffset + (2 * nfunc + 1) * 4 > data.limit()) {
      throw new ElfException(file, "malformed pclntab: " + nfunc + " functions do not fit");
    }
    return new PclnHeader(format, quantum, (int) nfunc, data.getLong(16), data.getLong(24), offset(file, data, 32),
        offset(file, data, 40), offset(file, data, 48), offset(file, data, 56), pclnOffset);
  }

  private static int offset(Path file, ByteBuffer data, int at) {
    long v = data.getLong(at);
    if (v < SIZE || v > data.limit()) {
      throw new ElfException(file, "malformed pclntab: header offset " + v + " outside the table (" + data.limit()
          + " bytes)");
    }
    return (int) v;
  }

  private static UnsupportedGoBinaryException unsupportedMagic(Path file, int magic) {
    String hex = String.format("0x%08x", magic);
    String what = switch (magic) {
      case PclnFormat.GO116_MAGIC -> "pclntab magic " + hex + " is Go 1.16/1.17";
      case PclnFormat.GO12_MAGIC -> "pclntab magic " + hex + " is Go 1.2-1.15";
      default -> "unknown pclntab magic " + hex;
    };
    return new UnsupportedGoBinaryException(file, UnsupportedGoBinaryException.Reason.UNSUPPORTED_PCLNTAB_VERSION,
        "unsupported Go binary: " + what + "; braid reads Go 1.18 and later");
  }
}
