package dev.braid.elf;

/**
 * One ELF section header (Elf64_Shdr), as linked: {@code address} is the link-time virtual address (0 for sections
 * that are not loaded), {@code offset} and {@code size} locate the bytes in the file ({@code size} is the stored
 * size, i.e. the compressed size for compressed sections).
 */
public record Section(String name, int type, long flags, long address, long offset, long size) {
  /** {@code sh_type}: section holds no file data. */
  public static final int SHT_NOBITS = 8;
  /** {@code sh_type}: linker symbol table. */
  public static final int SHT_SYMTAB = 2;
  /** {@code sh_type}: dynamic symbol table. */
  public static final int SHT_DYNSYM = 11;
  /** {@code sh_type}: relocations with explicit addends. */
  public static final int SHT_RELA = 4;
  /** {@code sh_type}: notes. */
  public static final int SHT_NOTE = 7;
  /** {@code sh_flags}: writable at run time. */
  public static final long SHF_WRITE = 0x1;
  /** {@code sh_flags}: occupies memory at run time. */
  public static final long SHF_ALLOC = 0x2;
  /** {@code sh_flags}: executable. */
  public static final long SHF_EXECINSTR = 0x4;
  /** {@code sh_flags}: data starts with an Elf64_Chdr and is compressed. */
  public static final long SHF_COMPRESSED = 0x800;

  /** Whether the section occupies no bytes of the file ({@code SHT_NOBITS}, e.g. {@code .bss}). */
  public boolean isNoBits() {
    return type == SHT_NOBITS;
  }

  /** Whether {@code vaddr} falls inside this section's link-time address range (only for loaded sections). */
  public boolean containsAddress(long vaddr) {
    return (flags & SHF_ALLOC) != 0 && size > 0 && Long.compareUnsigned(vaddr - address, size) < 0;
  }
}
