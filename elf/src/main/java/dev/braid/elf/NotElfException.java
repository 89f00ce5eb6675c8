package dev.braid.elf;

import java.nio.file.Path;

/** The file is no ELF file at all (a script, a text file): nothing braid could ever read, rather than a malformed one. */
public final class NotElfException extends ElfException {
  private static final long serialVersionUID = 1L;

  NotElfException(Path file, String problem) {
    super(file, problem);
  }
}
