package dev.braid.elf.go;

/** Malformed or unknown DWARF met while indexing; {@link GoDwarf} reports it as an ElfException naming the file. */
final class DwarfFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  DwarfFormatException(String message) {
    super(message);
  }
}
