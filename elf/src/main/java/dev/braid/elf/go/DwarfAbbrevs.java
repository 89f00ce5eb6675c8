package dev.braid.elf.go;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** One abbreviation table of .debug_abbrev: code to (tag, has children, attribute specs). */
final class DwarfAbbrevs {
  /** One abbreviation; {@code implicitConsts[i]} is the value of spec i when its form is DW_FORM_implicit_const. */
  record Abbrev(int tag, boolean hasChildren, int[] attributes, int[] forms, long[] implicitConsts) {}

  private final Map<Long, Abbrev> byCode;

  private DwarfAbbrevs(Map<Long, Abbrev> byCode) {
    this.byCode = byCode;
  }

  static DwarfAbbrevs read(ByteBuffer debugAbbrev, long offset) {
    if (offset < 0 || offset >= debugAbbrev.limit()) {
      throw new DwarfFormatException("abbrev offset " + offset + " outside .debug_abbrev");
    }
    DataCursor c = new DataCursor(debugAbbrev, (int) offset);
    Map<Long, Abbrev> byCode = new HashMap<>();
    while (true) {
      long code = c.uleb();
      if (code == 0) {
        return new DwarfAbbrevs(byCode);
      }
      int tag = (int) c.uleb();
      boolean children = c.u8() != 0;
      IntList attrs = new IntList();
      IntList forms = new IntList();
      LongList consts = new LongList();
      while (true) {
        int attr = (int) c.uleb();
        int form = (int) c.uleb();
        if (attr == 0 && form == 0) {
          break;
        }
        attrs.add(attr);
        forms.add(form);
        consts.add(form == DwarfForm.IMPLICIT_CONST ? c.sleb() : 0);
      }
      byCode.put(code, new Abbrev(tag, children, attrs.toArray(), forms.toArray(), consts.toArray()));
    }
  }

  Abbrev get(long code) {
    Abbrev a = byCode.get(code);
    if (a == null) {
      throw new DwarfFormatException("unknown abbreviation code " + code);
    }
    return a;
  }

  private static final class IntList {
    private int[] a = new int[8];
    private int n;

    void add(int v) {
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    int[] toArray() {
      return Arrays.copyOf(a, n);
    }
  }

  private static final class LongList {
    private long[] a = new long[8];
    private int n;

    void add(long v) {
      if (n == a.length) {
        a = Arrays.copyOf(a, n * 2);
      }
      a[n++] = v;
    }

    long[] toArray() {
      return Arrays.copyOf(a, n);
    }
  }
}
