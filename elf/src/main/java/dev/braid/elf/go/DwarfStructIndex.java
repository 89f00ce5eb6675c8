package dev.braid.elf.go;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Builds, from .debug_info, the byte size and member offsets of every named DW_TAG_structure_type. Walks every unit
 * DIE by DIE but decodes only the attributes it needs (name, byte size, member location, declaration, the unit's
 * str_offsets_base); all other attributes are skipped by form.
 */
final class DwarfStructIndex {
  /** A struct's size (-1 if not given) and its members' offsets, by member name, in declaration order. */
  record StructLayout(long byteSize, Map<String, Long> members) {}

  private static final int TAG_COMPILE_UNIT = 0x11;
  private static final int TAG_PARTIAL_UNIT = 0x3c;
  private static final int TAG_STRUCTURE_TYPE = 0x13;
  private static final int TAG_MEMBER = 0x0d;
  private static final int AT_NAME = 0x03;
  private static final int AT_BYTE_SIZE = 0x0b;
  private static final int AT_DATA_MEMBER_LOCATION = 0x38;
  private static final int AT_DECLARATION = 0x3c;
  private static final int AT_STR_OFFSETS_BASE = 0x72;
  private static final int OP_PLUS_UCONST = 0x23;
  private static final int UT_SKELETON = 4;
  private static final int UT_SPLIT_COMPILE = 5;
  private static final int UT_TYPE = 2;
  private static final int UT_SPLIT_TYPE = 6;

  /** The string sections a name may live in; any may be an empty buffer. */
  record Strings(ByteBuffer str, ByteBuffer lineStr, ByteBuffer strOffsets) {}

  private final ByteBuffer info;
  private final ByteBuffer abbrev;
  private final Strings strings;
  private final Map<Long, DwarfAbbrevs> abbrevTables = new HashMap<>();
  private final Map<String, StructLayout> structs = new HashMap<>();

  private DwarfStructIndex(ByteBuffer info, ByteBuffer abbrev, Strings strings) {
    this.info = info;
    this.abbrev = abbrev;
    this.strings = strings;
  }

  /**
   * Indexes all units.
   *
   * @throws DwarfFormatException or {@link IndexOutOfBoundsException} on malformed DWARF
   */
  static Map<String, StructLayout> build(ByteBuffer info, ByteBuffer abbrev, Strings strings) {
    DwarfStructIndex index = new DwarfStructIndex(info, abbrev, strings);
    DataCursor c = new DataCursor(info, 0);
    while (!c.atEnd()) {
      c.seek(index.unit(c));
    }
    return Collections.unmodifiableMap(index.structs);
  }

  /** One unit (DWARF 5 section 7.5.1, or the version 2-4 header); returns the offset of the next. */
  private int unit(DataCursor c) {
    int start = c.position();
    long length = c.u32();
    int offsetSize = 4;
    if (length == 0xffffffffL) {
      length = c.u64();
      offsetSize = 8;
    } else if (length >= 0xfffffff0L) {
      throw new DwarfFormatException("reserved unit length 0x" + Long.toHexString(length) + " at " + start);
    }
    long end = c.position() + length;
    if (end > info.limit() || length < 2) {
      throw new DwarfFormatException("unit at " + start + " ends past .debug_info");
    }
    int version = c.u16();
    int addressSize;
    long abbrevOffset;
    if (version >= 5) {
      int unitType = c.u8();
      addressSize = c.u8();
      abbrevOffset = c.unsigned(offsetSize);
      switch (unitType) {
        case UT_SKELETON, UT_SPLIT_COMPILE -> c.skip(8);
        case UT_TYPE, UT_SPLIT_TYPE -> c.skip(8 + offsetSize);
        default -> { }
      }
    } else if (version >= 2) {
      abbrevOffset = c.unsigned(offsetSize);
      addressSize = c.u8();
    } else {
      throw new DwarfFormatException("unsupported DWARF version " + version + " in unit at " + start);
    }
    DwarfAbbrevs abbrevs = abbrevTables.computeIfAbsent(abbrevOffset, o -> DwarfAbbrevs.read(abbrev, o));
    new UnitWalk(c, (int) end, abbrevs, offsetSize, addressSize, version).run();
    return (int) end;
  }

  /** The DIE walk of one unit. */
  private final class UnitWalk {
    private final DataCursor c;
    private final int end;
    private final DwarfAbbrevs abbrevs;
    private final int offsetSize;
    private final int addressSize;
    private final int version;
    private long strOffsetsBase = -1;
    // The struct being filled at each nesting depth (null when the parent DIE is not a struct).
    private Map<String, Long>[] parents = newParents(16);

    UnitWalk(DataCursor c, int end, DwarfAbbrevs abbrevs, int offsetSize, int addressSize, int version) {
      this.c = c;
      this.end = end;
      this.abbrevs = abbrevs;
      this.offsetSize = offsetSize;
      this.addressSize = addressSize;
      this.version = version;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Long>[] newParents(int n) {
      return (Map<String, Long>[]) new Map<?, ?>[n];
    }

    void run() {
      int depth = 0;
      while (c.position() < end) {
        long code = c.uleb();
        if (code == 0) {
          depth = Math.max(0, depth - 1);
          continue;
        }
        DwarfAbbrevs.Abbrev a = abbrevs.get(code);
        Map<String, Long> parent = depth > 0 ? parents[depth - 1] : null;
        Map<String, Long> opened = switch (a.tag()) {
          case TAG_COMPILE_UNIT, TAG_PARTIAL_UNIT -> {
            unitDie(a);
            yield null;
          }
          case TAG_STRUCTURE_TYPE -> struct(a);
          case TAG_MEMBER -> {
            member(a, parent);
            yield null;
          }
          default -> {
            skipAll(a);
            yield null;
          }
        };
        if (a.hasChildren()) {
          if (depth == parents.length) {
            parents = Arrays.copyOf(parents, depth * 2);
          }
          parents[depth++] = opened;
        }
      }
    }

    private void unitDie(DwarfAbbrevs.Abbrev a) {
      for (int i = 0; i < a.forms().length; i++) {
        if (a.attributes()[i] == AT_STR_OFFSETS_BASE) {
          strOffsetsBase = constant(a, i).orElse(-1L);
        } else {
          DwarfForm.skip(c, a.forms()[i], offsetSize, addressSize, version);
        }
      }
    }

    /** Reads a struct DIE; returns the member map its children fill, or null if it is not worth indexing. */
    private Map<String, Long> struct(DwarfAbbrevs.Abbrev a) {
      String name = null;
      long size = -1;
      boolean declaration = false;
      for (int i = 0; i < a.forms().length; i++) {
        switch (a.attributes()[i]) {
          case AT_NAME -> name = string(a.forms()[i]);
          case AT_BYTE_SIZE -> size = constant(a, i).orElse(-1L);
          case AT_DECLARATION -> declaration = flag(a, i);
          default -> DwarfForm.skip(c, a.forms()[i], offsetSize, addressSize, version);
        }
      }
      if (name == null || declaration || structs.containsKey(name)) {
        return null;
      }
      Map<String, Long> members = new LinkedHashMap<>();
      structs.put(name, new StructLayout(size, Collections.unmodifiableMap(members)));
      return members;
    }

    private void member(DwarfAbbrevs.Abbrev a, Map<String, Long> parent) {
      String name = null;
      Optional<Long> location = Optional.empty();
      for (int i = 0; i < a.forms().length; i++) {
        int attr = a.attributes()[i];
        if (parent != null && attr == AT_NAME) {
          name = string(a.forms()[i]);
        } else if (parent != null && attr == AT_DATA_MEMBER_LOCATION) {
          location = memberLocation(a, i);
        } else {
          DwarfForm.skip(c, a.forms()[i], offsetSize, addressSize, version);
        }
      }
      if (parent != null && name != null && location.isPresent()) {
        parent.putIfAbsent(name, location.get());
      }
    }

    private void skipAll(DwarfAbbrevs.Abbrev a) {
      for (int form : a.forms()) {
        DwarfForm.skip(c, form, offsetSize, addressSize, version);
      }
    }

    /** DW_AT_data_member_location: a constant, or (DWARF 2 style) an expression DW_OP_plus_uconst N. */
    private Optional<Long> memberLocation(DwarfAbbrevs.Abbrev a, int i) {
      int form = a.forms()[i];
      if (form == DwarfForm.EXPRLOC || form == DwarfForm.BLOCK1 || form == DwarfForm.BLOCK) {
        long length = form == DwarfForm.BLOCK1 ? c.u8() : c.uleb();
        int after = c.position() + (int) length;
        Optional<Long> value = Optional.empty();
        if (length > 0 && c.u8() == OP_PLUS_UCONST) {
          long v = c.uleb();
          value = c.position() == after ? Optional.of(v) : Optional.empty();
        }
        c.seek(after);
        return value;
      }
      return constant(a, i);
    }

    private Optional<Long> constant(DwarfAbbrevs.Abbrev a, int i) {
      int form = a.forms()[i];
      return switch (form) {
        case DwarfForm.DATA1 -> Optional.of((long) c.u8());
        case DwarfForm.DATA2 -> Optional.of((long) c.u16());
        case DwarfForm.DATA4 -> Optional.of(c.u32());
        case DwarfForm.DATA8 -> Optional.of(c.u64());
        case DwarfForm.UDATA -> Optional.of(c.uleb());
        case DwarfForm.SDATA -> Optional.of(c.sleb());
        case DwarfForm.SEC_OFFSET -> Optional.of(c.unsigned(offsetSize));
        case DwarfForm.IMPLICIT_CONST -> Optional.of(a.implicitConsts()[i]);
        default -> {
          DwarfForm.skip(c, form, offsetSize, addressSize, version);
          yield Optional.empty();
        }
      };
    }

    private boolean flag(DwarfAbbrevs.Abbrev a, int i) {
      int form = a.forms()[i];
      if (form == DwarfForm.FLAG_PRESENT) {
        return true;
      }
      if (form == DwarfForm.FLAG) {
        return c.u8() != 0;
      }
      DwarfForm.skip(c, form, offsetSize, addressSize, version);
      return false;
    }

    /** A string attribute; null for forms whose string lives elsewhere (supplementary files). */
    private String string(int form) {
      return switch (form) {
        case DwarfForm.STRING -> c.cstring();
        case DwarfForm.STRP -> at(strings.str(), c.unsigned(offsetSize));
        case DwarfForm.LINE_STRP -> at(strings.lineStr(), c.unsigned(offsetSize));
        case DwarfForm.STRX, DwarfForm.GNU_STR_INDEX -> indexed(c.uleb());
        case DwarfForm.STRX1 -> indexed(c.u8());
        case DwarfForm.STRX2 -> indexed(c.u16());
        case DwarfForm.STRX3 -> indexed(c.unsigned(3));
        case DwarfForm.STRX4 -> indexed(c.u32());
        default -> {
          DwarfForm.skip(c, form, offsetSize, addressSize, version);
          yield null;
        }
      };
    }

    private String indexed(long index) {
      // DWARF 5: str_offsets_base points past the .debug_str_offsets header; 8 is the 32-bit header's size.
      long base = strOffsetsBase >= 0 ? strOffsetsBase : 8;
      long slot = base + index * offsetSize;
      if (slot < 0 || slot + offsetSize > strings.strOffsets().limit()) {
        return null;
      }
      long offset = offsetSize == 8 ? strings.strOffsets().getLong((int) slot)
          : Integer.toUnsignedLong(strings.strOffsets().getInt((int) slot));
      return at(strings.str(), offset);
    }

    private String at(ByteBuffer section, long offset) {
      return offset >= 0 && offset < section.limit() ? DataCursor.cstringAt(section, (int) offset) : null;
    }
  }
}
