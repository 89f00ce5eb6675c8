package dev.braid.elf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Little-endian unaligned reads from a mapped segment: the only byte order this package reads. */
final class Le {
  private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private Le() {}

  static int u8(MemorySegment s, long offset) {
    return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, offset));
  }

  static int u16(MemorySegment s, long offset) {
    return Short.toUnsignedInt(s.get(U16, offset));
  }

  static int i32(MemorySegment s, long offset) {
    return s.get(U32, offset);
  }

  static long u32(MemorySegment s, long offset) {
    return Integer.toUnsignedLong(s.get(U32, offset));
  }

  static long i64(MemorySegment s, long offset) {
    return s.get(U64, offset);
  }

  /** The NUL-terminated string at {@code offset}, bounded by {@code end}; bytes are decoded as UTF-8. */
  static String cstring(MemorySegment s, long offset, long end) {
    long n = 0;
    while (offset + n < end && s.get(ValueLayout.JAVA_BYTE, offset + n) != 0) {
      n++;
    }
    return new String(s.asSlice(offset, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
  }
}
