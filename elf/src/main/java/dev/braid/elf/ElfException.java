package dev.braid.elf;

import java.nio.file.Path;

/**
 * A file cannot be read as a supported ELF file, or a structure inside it is malformed.
 *
 * <p>Unchecked: every reader in {@code dev.braid.elf} and {@code dev.braid.elf.go} throws it (or a subclass) for
 * bad input, so callers that symbolize many binaries can catch one type. Messages are in path style and always
 * name the file first, e.g. {@code /bin/true: not a Go binary: no .gopclntab section}. The cause, when there is
 * one, is the underlying I/O or decompression error.
 */
public class ElfException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /** Creates an exception whose message is {@code file + ": " + problem}. */
  public ElfException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  /** Creates an exception whose message is {@code file + ": " + problem}, caused by {@code cause}. */
  public ElfException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The file the problem is about. */
  public Path file() {
    return file;
  }
}
