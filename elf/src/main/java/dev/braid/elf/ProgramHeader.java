package dev.braid.elf;

/** One ELF program header (Elf64_Phdr); addresses are link-time virtual addresses. */
public record ProgramHeader(int type, int flags, long offset, long vaddr, long fileSize, long memSize, long align) {
  /** {@code p_type}: loadable segment. */
  public static final int PT_LOAD = 1;
  /** {@code p_type}: notes. */
  public static final int PT_NOTE = 4;
  /** {@code p_type}: the thread-local storage template. */
  public static final int PT_TLS = 7;
  /** {@code p_flags}: executable. */
  public static final int PF_X = 1;
  /** {@code p_flags}: writable. */
  public static final int PF_W = 2;
  /** {@code p_flags}: readable. */
  public static final int PF_R = 4;

  /** Whether this is a {@code PT_LOAD} segment whose file-backed part holds {@code vaddr}. */
  public boolean loadsAddress(long vaddr) {
    return type == PT_LOAD && Long.compareUnsigned(vaddr - this.vaddr, fileSize) < 0;
  }

  /** Whether this is a {@code PT_LOAD} segment whose file-backed part holds file offset {@code fileOffset}. */
  public boolean loadsFileOffset(long fileOffset) {
    return type == PT_LOAD && Long.compareUnsigned(fileOffset - offset, fileSize) < 0;
  }
}
