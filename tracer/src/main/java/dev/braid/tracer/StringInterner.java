package dev.braid.tracer;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns the short byte strings of span events (methods, paths, hosts, routes: a few distinct
 * values repeated at every request) into Strings without making a new one each time. A fixed
 * table, direct-mapped by hash: a collision only costs a new String. Not thread-safe: one per
 * draining thread.
 */
final class StringInterner {
  private static final int SLOTS = 1024; // a power of two

  private final byte[][] keys = new byte[SLOTS][];
  private final String[] values = new String[SLOTS];
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
    int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    byte[] key = keys[slot];
    if (key != null && Arrays.equals(key, 0, key.length, scratch, 0, n)) {
      return values[slot];
    }
    String value = new String(scratch, 0, n, StandardCharsets.UTF_8);
    keys[slot] = Arrays.copyOf(scratch, n);
    values[slot] = value;
    return value;
  }
}
