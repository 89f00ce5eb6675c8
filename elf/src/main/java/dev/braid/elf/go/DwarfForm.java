package dev.braid.elf.go;

/**
 * DWARF 4 and 5 attribute forms (DWARF 5 section 7.5.6) and how to step over each. Values that braid reads are
 * decoded by {@link DwarfUnit}; everything else is skipped by size.
 */
final class DwarfForm {
  static final int ADDR = 0x01;
  static final int BLOCK2 = 0x03;
  static final int BLOCK4 = 0x04;
  static final int DATA2 = 0x05;
  static final int DATA4 = 0x06;
  static final int DATA8 = 0x07;
  static final int STRING = 0x08;
  static final int BLOCK = 0x09;
  static final int BLOCK1 = 0x0a;
  static final int DATA1 = 0x0b;
  static final int FLAG = 0x0c;
  static final int SDATA = 0x0d;
  static final int STRP = 0x0e;
  static final int UDATA = 0x0f;
  static final int REF_ADDR = 0x10;
  static final int REF1 = 0x11;
  static final int REF2 = 0x12;
  static final int REF4 = 0x13;
  static final int REF8 = 0x14;
  static final int REF_UDATA = 0x15;
  static final int INDIRECT = 0x16;
  static final int SEC_OFFSET = 0x17;
  static final int EXPRLOC = 0x18;
  static final int FLAG_PRESENT = 0x19;
  static final int STRX = 0x1a;
  static final int ADDRX = 0x1b;
  static final int REF_SUP4 = 0x1c;
  static final int STRP_SUP = 0x1d;
  static final int DATA16 = 0x1e;
  static final int LINE_STRP = 0x1f;
  static final int REF_SIG8 = 0x20;
  static final int IMPLICIT_CONST = 0x21;
  static final int LOCLISTX = 0x22;
  static final int RNGLISTX = 0x23;
  static final int REF_SUP8 = 0x24;
  static final int STRX1 = 0x25;
  static final int STRX2 = 0x26;
  static final int STRX3 = 0x27;
  static final int STRX4 = 0x28;
  static final int ADDRX1 = 0x29;
  static final int ADDRX2 = 0x2a;
  static final int ADDRX3 = 0x2b;
  static final int ADDRX4 = 0x2c;
  static final int GNU_ADDR_INDEX = 0x1f01;
  static final int GNU_STR_INDEX = 0x1f02;
  static final int GNU_REF_ALT = 0x1f20;
  static final int GNU_STRP_ALT = 0x1f21;

  private DwarfForm() {}

  /**
   * Moves {@code c} past a value of {@code form}.
   *
   * @param offsetSize 4 in 32-bit DWARF, 8 in 64-bit DWARF
   * @param addressSize the unit's address size
   * @param version the unit's DWARF version (DW_FORM_ref_addr was address-sized in version 2)
   * @throws DwarfFormatException for a form this table does not know (its size cannot be known)
   */
  static void skip(DataCursor c, int form, int offsetSize, int addressSize, int version) {
    switch (form) {
      case FLAG_PRESENT, IMPLICIT_CONST -> { }
      case DATA1, REF1, FLAG, STRX1, ADDRX1 -> c.skip(1);
      case DATA2, REF2, STRX2, ADDRX2 -> c.skip(2);
      case STRX3, ADDRX3 -> c.skip(3);
      case DATA4, REF4, REF_SUP4, STRX4, ADDRX4 -> c.skip(4);
      case DATA8, REF8, REF_SIG8, REF_SUP8 -> c.skip(8);
      case DATA16 -> c.skip(16);
      case ADDR -> c.skip(addressSize);
      case REF_ADDR -> c.skip(version <= 2 ? addressSize : offsetSize);
      case STRP, LINE_STRP, SEC_OFFSET, STRP_SUP, GNU_REF_ALT, GNU_STRP_ALT -> c.skip(offsetSize);
      case SDATA -> c.sleb();
      case UDATA, REF_UDATA, STRX, ADDRX, LOCLISTX, RNGLISTX, GNU_ADDR_INDEX, GNU_STR_INDEX -> c.uleb();
      case STRING -> c.cstring();
      case BLOCK1 -> c.skip(c.u8());
      case BLOCK2 -> c.skip(c.u16());
      case BLOCK4 -> c.skip(c.u32());
      case BLOCK, EXPRLOC -> c.skip(c.uleb());
      case INDIRECT -> skip(c, (int) c.uleb(), offsetSize, addressSize, version);
      default -> throw new DwarfFormatException("unknown attribute form 0x" + Integer.toHexString(form));
    }
  }
}
