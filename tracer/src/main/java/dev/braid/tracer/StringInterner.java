package dev.braid.tracer;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns the short byte strings of span events (methods, paths, hosts, routes: a few distinct
 * values repeated at every request) into Strings without making a new one each time. A fixed
 * table of two-way sets, found by hash: two strings that share a set both stay (with one way a
 * set, {@code GET} and {@code /api/cart} evicted each other at every request), and a third only
 * costs a new String. Not thread-safe: one per draining thread.
 */
final class StringInterner {
  private static final int SETS = 512; // a power of two
  private static final int WAYS = 2;

  private final byte[][] keys = new byte[SETS * WAYS][];
  private final String[] values = new String[SETS * WAYS];
  /** Per set, the way a miss replaces: the one not used last. */
  private final byte[] victim = new byte[SETS];
  private final byte[] scratch = new byte[256];

  /** The UTF-8 string of {@code length} bytes at {@code offset}. */
  String of(MemorySegment segment, long offset, int length) {
    if (length <= 0) {
      return "";
    }
    int n = Math.min(length, scratch.length);
    MemorySegment.copy(segment, JAVA_BYTE, offset, scratch, 0, n);
    int hash = 1;
    for (int i = 0; i < n; i++) {
      hash = 31 * hash + scratch[i];
    }
    int set = (hash ^ (hash >>> 16)) & (SETS - 1);
    for (int way = 0; way < WAYS; way++) {
      int slot = set * WAYS + way;
      byte[] key = keys[slot];
      if (key != null && Arrays.equals(key, 0, key.length, scratch, 0, n)) {
        victim[set] = (byte) (1 - way);
        return values[slot];
      }
    }
    int way = victim[set];
    int slot = set * WAYS + way;
    String value = new String(scratch, 0, n, StandardCharsets.UTF_8);
    keys[slot] = Arrays.copyOf(scratch, n);
    values[slot] = value;
    victim[set] = (byte) (1 - way);
    return value;
  }
}
