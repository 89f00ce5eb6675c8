package dev.braid.elf;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parsed ELF header, section headers and program headers of one file, checked against the file's size.
 *
 * @param sectionLinks {@code sh_link} of each section, by section index
 */
record ElfHeaders(int type, List<Section> sections, int[] sectionLinks, List<ProgramHeader> programHeaders) {
  static final int ET_DYN = 3;
  private static final int EM_X86_64 = 62;
  private static final int ELF64_HEADER_SIZE = 64;
  private static final int SHDR_SIZE = 64;
  private static final int PHDR_SIZE = 56;
  private static final int SHN_XINDEX = 0xffff;
  private static final int PN_XNUM = 0xffff;

  static ElfHeaders parse(Path path, MemorySegment image) {
    long fileSize = image.byteSize();
    checkIdent(path, image);
    if (fileSize < ELF64_HEADER_SIZE) {
      throw new ElfException(path, "truncated: " + fileSize + " bytes, an ELF64 header needs " + ELF64_HEADER_SIZE);
    }
    int type = Le.u16(image, 16);
    long phoff = Le.i64(image, 32);
    long shoff = Le.i64(image, 40);
    int phentsize = Le.u16(image, 54);
    long phnum = Le.u16(image, 56);
    int shentsize = Le.u16(image, 58);
    long shnum = Le.u16(image, 60);
    int shstrndx = Le.u16(image, 62);

    // Extended numbering (gABI): counts that do not fit 16 bits live in section header 0.
    if (shoff != 0) {
      checkTable(path, "section header table", shoff, 1, SHDR_SIZE, fileSize);
      if (shnum == 0) {
        shnum = Le.i64(image, shoff + 32);
      }
      if (shstrndx == SHN_XINDEX) {
        shstrndx = Le.i32(image, shoff + 40);
      }
      if (phnum == PN_XNUM) {
        phnum = Le.u32(image, shoff + 44);
      }
    }
    if (shnum > 0 && shentsize != SHDR_SIZE) {
      throw new ElfException(path, "malformed: e_shentsize " + shentsize + ", expected " + SHDR_SIZE);
    }
    if (phnum > 0 && phentsize != PHDR_SIZE) {
      throw new ElfException(path, "malformed: e_phentsize " + phentsize + ", expected " + PHDR_SIZE);
    }
    checkTable(path, "section header table", shoff, shnum, SHDR_SIZE, fileSize);
    checkTable(path, "program header table", phoff, phnum, PHDR_SIZE, fileSize);
    List<ProgramHeader> phdrs = readProgramHeaders(image, phoff, (int) phnum);
    List<Section> sections = new ArrayList<>();
    int[] links = new int[(int) shnum];
    readSections(path, image, shoff, (int) shnum, shstrndx, sections, links);
    return new ElfHeaders(type, List.copyOf(sections), links, phdrs);
  }

  private static void checkIdent(Path path, MemorySegment image) {
    long size = image.byteSize();
    if (size < 4 || Le.u8(image, 0) != 0x7f || Le.u8(image, 1) != 'E' || Le.u8(image, 2) != 'L'
        || Le.u8(image, 3) != 'F') {
      throw new NotElfException(path, "not an ELF file (bad magic; " + size + " bytes)");
    }
    if (size < 20) {
      throw new ElfException(path, "truncated: " + size + " bytes, an ELF64 header needs " + ELF64_HEADER_SIZE);
    }
    int elfClass = Le.u8(image, 4);
    int data = Le.u8(image, 5);
    int machine = Le.u16(image, 18);
    if (elfClass != 2) {
      throw unsupported(path, "ELF class " + elfClass + (elfClass == 1 ? " (ELF32)" : ""));
    }
    if (data != 1) {
      throw unsupported(path, "data encoding " + data + (data == 2 ? " (big-endian)" : ""));
    }
    if (machine != EM_X86_64) {
      throw unsupported(path, "machine " + machine + machineName(machine));
    }
  }

  private static ElfException unsupported(Path path, String what) {
    return new ElfException(path, "unsupported ELF file: " + what + "; only ELF64 little-endian x86-64 is supported");
  }

  private static String machineName(int machine) {
    return switch (machine) {
      case 3 -> " (i386)";
      case 40 -> " (ARM)";
      case 183 -> " (AArch64)";
      case 243 -> " (RISC-V)";
      case 21 -> " (PowerPC64)";
      case 22 -> " (S390)";
      default -> "";
    };
  }

  private static void checkTable(Path path, String what, long offset, long count, int entrySize, long fileSize) {
    if (count == 0) {
      return;
    }
    long end = offset + count * entrySize;
    if (offset < 0 || count < 0 || end < offset || end > fileSize) {
      throw new ElfException(path, "truncated: " + what + " at offset " + offset + " (" + count + " entries) ends past "
          + "the end of the file (" + fileSize + " bytes)");
    }
  }

  private static List<ProgramHeader> readProgramHeaders(MemorySegment image, long phoff, int phnum) {
    List<ProgramHeader> phdrs = new ArrayList<>(phnum);
    for (int i = 0; i < phnum; i++) {
      long p = phoff + (long) i * PHDR_SIZE;
      phdrs.add(new ProgramHeader(Le.i32(image, p), Le.i32(image, p + 4), Le.i64(image, p + 8), Le.i64(image, p + 16),
          Le.i64(image, p + 32), Le.i64(image, p + 40), Le.i64(image, p + 48)));
    }
    return List.copyOf(phdrs);
  }

  private static void readSections(Path path, MemorySegment image, long shoff, int shnum, int shstrndx,
      List<Section> out, int[] links) {
    long fileSize = image.byteSize();
    long namesOffset = 0;
    long namesEnd = 0;
    if (shnum > 0) {
      if (shstrndx >= shnum) {
        throw new ElfException(path, "malformed: e_shstrndx " + shstrndx + " >= " + shnum + " sections");
      }
      long h = shoff + (long) shstrndx * SHDR_SIZE;
      namesOffset = Le.i64(image, h + 24);
      namesEnd = namesOffset + Le.i64(image, h + 32);
      if (namesOffset < 0 || namesEnd < namesOffset || namesEnd > fileSize) {
        throw new ElfException(path, "truncated: section name table ends past the end of the file");
      }
    }
    for (int i = 0; i < shnum; i++) {
      long h = shoff + (long) i * SHDR_SIZE;
      long nameOffset = Le.u32(image, h);
      String name = shstrndx == 0 || namesOffset + nameOffset >= namesEnd
          ? "" : Le.cstring(image, namesOffset + nameOffset, namesEnd);
      Section s = new Section(name, Le.i32(image, h + 4), Le.i64(image, h + 8), Le.i64(image, h + 16),
          Le.i64(image, h + 24), Le.i64(image, h + 32));
      if (!s.isNoBits() && s.type() != 0) {
        long end = s.offset() + s.size();
        if (s.offset() < 0 || end < s.offset() || end > fileSize) {
          throw new ElfException(path, "truncated: section " + name + " (offset " + s.offset() + ", size " + s.size()
              + ") extends past the end of the file (" + fileSize + " bytes)");
        }
      }
      links[i] = Le.i32(image, h + 40);
      out.add(s);
    }
  }
}
