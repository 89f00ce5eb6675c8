package dev.braid.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Map keys and values as the kernel stores integers on x86-64. */
public final class LittleEndian {
  private LittleEndian() {}

  public static byte[] u32(int value) {
    return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
  }

  public static byte[] u64(long value) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
  }

  /** The u32 at {@code offset} of {@code bytes}. */
  public static int u32At(byte[] bytes, int offset) {
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
  }

  /** The u64 at {@code offset} of {@code bytes}. */
  public static long u64At(byte[] bytes, int offset) {
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(offset);
  }
}
