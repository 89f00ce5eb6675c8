package dev.braid.elf.go;

import java.util.List;
import java.util.Optional;

/**
 * The pclntab layouts braid reads, named by the Go release that introduced them, with the struct offsets that
 * differ between them (runtime/symtab.go, runtime/runtime2.go and runtime/symtabinl.go of each release).
 */
enum PclnFormat {
  /** Go 1.18 and 1.19: magic 0xfffffff0. */
  GO118(0xfffffff0, 40, 39, 20, new int[] {3}, 12, 16, 304, List.of("go.func.*", "go:func.*")),
  /** Go 1.20 and later: magic 0xfffffff1; _func gained startLine, inlinedCall lost parent/file/line. */
  GO120(0xfffffff1, 44, 43, 16, new int[] {1, 2, 3}, 4, 8, 320, List.of("go:func.*", "go.func.*"));

  /** Magic of Go 1.16 and 1.17, recognised only to say it is unsupported. */
  static final int GO116_MAGIC = 0xfffffffa;
  /** Magic of Go 1.2 through 1.15. */
  static final int GO12_MAGIC = 0xfffffffb;

  final int magic;
  /** Size of runtime._func before its pcdata array. */
  final int funcHeaderSize;
  /** Offset of _func.nfuncdata (uint8, the struct's last field). */
  final int nfuncdataOffset;
  /** Size of one runtime.inlinedCall (FUNCDATA_InlTree entry). */
  final int inlinedCallSize;
  /** Offsets of inlinedCall's padding bytes (always zero): after funcID ("_ byte" in 1.18, "_ [3]byte" in 1.20+). */
  final int[] inlinedCallPadding;
  /** Offset of inlinedCall's name offset (func_ in 1.18/1.19, nameOff in 1.20+), an int32 into funcnametab. */
  final int inlinedCallNameOffset;
  /** Offset of inlinedCall.parentPc, an int32 pc offset from the function entry. */
  final int inlinedCallParentPcOffset;
  /**
   * Offset of moduledata.gofunc on 64-bit targets: 1.18 added rodata and gofunc after types/etypes (304); 1.20
   * inserted covctrs/ecovctrs after enoptrbss, moving gofunc to 320.
   */
  final int moduledataGofuncOffset;
  /** The linker's symbol for the base of funcdata offsets ("go.func.*" until 1.19, "go:func.*" since 1.20). */
  final List<String> gofuncSymbols;

  PclnFormat(int magic, int funcHeaderSize, int nfuncdataOffset, int inlinedCallSize, int[] inlinedCallPadding,
      int inlinedCallNameOffset, int inlinedCallParentPcOffset, int moduledataGofuncOffset,
      List<String> gofuncSymbols) {
    this.magic = magic;
    this.funcHeaderSize = funcHeaderSize;
    this.nfuncdataOffset = nfuncdataOffset;
    this.inlinedCallSize = inlinedCallSize;
    this.inlinedCallPadding = inlinedCallPadding;
    this.inlinedCallNameOffset = inlinedCallNameOffset;
    this.inlinedCallParentPcOffset = inlinedCallParentPcOffset;
    this.moduledataGofuncOffset = moduledataGofuncOffset;
    this.gofuncSymbols = gofuncSymbols;
  }

  static Optional<PclnFormat> ofMagic(int magic) {
    for (PclnFormat f : values()) {
      if (f.magic == magic) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }
}
