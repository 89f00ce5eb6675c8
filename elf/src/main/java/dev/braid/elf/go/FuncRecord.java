package dev.braid.elf.go;

import java.nio.ByteBuffer;

/**
 * Reads one runtime._func from the pclntable: entryOff, nameOff, args, deferreturn, pcsp, pcfile, pcln, npcdata,
 * cuOffset (all 32-bit), then (1.20+) startLine, then funcID, flag, a pad byte and nfuncdata; followed by npcdata
 * uint32 pctab offsets and nfuncdata uint32 go:func.* offsets (^0 = absent).
 */
final class FuncRecord {
  static final int PCDATA_INL_TREE_INDEX = 2;
  static final int FUNCDATA_INL_TREE = 3;
  static final long NO_FUNCDATA = 0xffffffffL;

  private final ByteBuffer pclntable;
  private final int at;
  private final PclnFormat format;

  FuncRecord(ByteBuffer pclntable, int at, PclnFormat format) {
    this.pclntable = pclntable;
    this.at = at;
    this.format = format;
  }

  long entryOff() {
    return u32(0);
  }

  int nameOff() {
    return pclntable.getInt(at + 4);
  }

  long pcsp() {
    return u32(16);
  }

  long pcfile() {
    return u32(20);
  }

  long pcln() {
    return u32(24);
  }

  long npcdata() {
    return u32(28);
  }

  long cuOffset() {
    return u32(32);
  }

  int nfuncdata() {
    return Byte.toUnsignedInt(pclntable.get(at + format.nfuncdataOffset));
  }

  /** The pctab offset of pcdata table {@code index}, or 0 when the function has none. */
  long pcdata(int index) {
    return index < npcdata() ? u32(format.funcHeaderSize + 4 * index) : 0;
  }

  /** The go:func.* offset of funcdata {@code index}, or {@link #NO_FUNCDATA}. */
  long funcdata(int index) {
    if (index >= nfuncdata()) {
      return NO_FUNCDATA;
    }
    return u32(format.funcHeaderSize + 4 * (int) npcdata() + 4 * index);
  }

  private long u32(int offset) {
    return Integer.toUnsignedLong(pclntable.getInt(at + offset));
  }
}
