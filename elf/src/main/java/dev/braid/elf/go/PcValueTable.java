package dev.braid.elf.go;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One decoded pc-value table of a function (pcsp, pcfile, pcln or a pcdata table), as runtime.pcvalue reads it:
 * a sequence of (value delta, pc delta) pairs, both uvarints; the value delta is zig-zag encoded, the pc delta is in
 * units of the pc quantum; the value starts at -1 and a zero value delta ends the table, except in the first pair.
 * Each pair's value holds from the previous pc up to (not including) the new pc.
 *
 * <p>Immutable.
 */
final class PcValueTable {
  static final PcValueTable EMPTY = new PcValueTable(new int[0], new int[0]);

  /** Exclusive end of each run, as an offset from the function entry; increasing. */
  private final int[] ends;
  private final int[] values;

  private PcValueTable(int[] ends, int[] values) {
    this.ends = ends;
    this.values = values;
  }

  /**
   * Decodes the table at {@code offset} of {@code pctab}; offset 0 means the function has no such table.
   *
   * @param limit the function's size in bytes: decoding stops once the table covers it, so a corrupt table cannot
   *     run away
   */
  static PcValueTable decode(ByteBuffer pctab, long offset, int quantum, long limit) {
    if (offset <= 0 || offset >= pctab.limit()) {
      return EMPTY;
    }
    DataCursor c = new DataCursor(pctab, (int) offset);
    int[] ends = new int[8];
    int[] values = new int[8];
    int n = 0;
    long pc = 0;
    int value = -1;
    while (!c.atEnd()) {
      long uvdelta = c.uleb();
      if (uvdelta == 0 && n > 0) {
        break;
      }
      value += (int) ((uvdelta >>> 1) ^ -(uvdelta & 1));
      pc += c.uleb() * quantum;
      if (pc > Integer.MAX_VALUE) {
        break;
      }
      if (n == ends.length) {
        ends = Arrays.copyOf(ends, n * 2);
        values = Arrays.copyOf(values, n * 2);
      }
      ends[n] = (int) pc;
      values[n] = value;
      n++;
      if (pc >= limit) {
        break;
      }
    }
    return new PcValueTable(Arrays.copyOf(ends, n), Arrays.copyOf(values, n));
  }

  /** The value at {@code pcOffset} (from the function entry), or -1 where the table says nothing. */
  int valueAt(long pcOffset) {
    if (pcOffset < 0) {
      return -1;
    }
    int lo = 0;
    int hi = ends.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (ends[mid] > pcOffset) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo < ends.length ? values[lo] : -1;
  }
}
