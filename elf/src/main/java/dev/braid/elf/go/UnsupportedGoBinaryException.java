package dev.braid.elf.go;

import dev.braid.elf.ElfException;
import java.nio.file.Path;

/**
 * The file is a readable ELF file, but not a Go binary braid can read: it has no pclntab (not Go at all), or its
 * pclntab has a format braid does not read (Go older than 1.18, or a future format). This is the "unsupported"
 * outcome of {@link Pclntab#read}; a corrupt pclntab is a plain {@link ElfException}.
 */
public final class UnsupportedGoBinaryException extends ElfException {
  private static final long serialVersionUID = 1L;

  /** Why the binary is unsupported. */
  public enum Reason {
    /** No {@code .gopclntab} section and no {@code runtime.pclntab} symbol: not a Go binary. */
    NOT_GO,
    /** The pclntab magic names a format other than Go 1.18/1.19 ({@code 0xfffffff0}) or 1.20+ ({@code 0xfffffff1}). */
    UNSUPPORTED_PCLNTAB_VERSION
  }

  private final Reason reason;

  UnsupportedGoBinaryException(Path file, Reason reason, String problem) {
    super(file, problem);
    this.reason = reason;
  }

  /** Why the binary is unsupported. */
  public Reason reason() {
    return reason;
  }
}
