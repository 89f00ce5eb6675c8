package dev.braid.elf.go;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The FUNCDATA_InlTree tables of a binary: arrays of runtime.inlinedCall that live at moduledata.gofunc plus each
 * function's funcdata offset. An entry names the inlined callee (an offset into funcnametab) and its parentPc, an
 * instruction of the caller whose source position is the call site. Entries are read with bounds checks so that a
 * wrong gofunc can only make a lookup fail, never return garbage from outside the region.
 */
final class InlineTree {
  /** One inlinedCall entry. */
  record Call(int nameOff, int parentPc) {}

  private final ByteBuffer region;
  private final PclnFormat format;

  /** @param region the bytes from go:func.* to the end of the section that holds them */
  InlineTree(ByteBuffer region, PclnFormat format) {
    this.region = region;
    this.format = format;
  }

  /**
   * Whether the first entry of the tree at {@code treeOffset} looks like an inlinedCall of a function of
   * {@code functionSize} bytes whose names live in a {@code namesSize}-byte funcnametab: padding bytes zero, name
   * offset in range, parentPc inside the function. Used to reject a wrong go:func.* before trusting any tree.
   */
  boolean plausible(long treeOffset, long functionSize, int namesSize) {
    long at = treeOffset;
    if (at < 0 || at + format.inlinedCallSize > region.limit()) {
      return false;
    }
    int i = (int) at;
    for (int pad : format.inlinedCallPadding) {
      if (region.get(i + pad) != 0) {
        return false;
      }
    }
    int nameOff = region.getInt(i + format.inlinedCallNameOffset);
    int parentPc = region.getInt(i + format.inlinedCallParentPcOffset);
    return nameOff >= 0 && nameOff < namesSize && parentPc >= 0 && parentPc < functionSize;
  }

  /** Entry {@code index} of the tree at go:func.* offset {@code treeOffset}. */
  Optional<Call> call(long treeOffset, int index) {
    long at = treeOffset + (long) index * format.inlinedCallSize;
    if (index < 0 || at < 0 || at + format.inlinedCallSize > region.limit()) {
      return Optional.empty();
    }
    int i = (int) at;
    return Optional.of(new Call(region.getInt(i + format.inlinedCallNameOffset),
        region.getInt(i + format.inlinedCallParentPcOffset)));
  }
}
