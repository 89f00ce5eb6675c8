package dev.braid.elf.go;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A forward reader over a little-endian buffer with its own position; reads are absolute on the shared buffer, so
 * any number of cursors can read one buffer concurrently. Reading past the limit throws
 * {@link IndexOutOfBoundsException}, which callers turn into a format error.
 */
final class DataCursor {
  private final ByteBuffer data;
  private int pos;

  DataCursor(ByteBuffer data, int pos) {
    this.data = data;
    this.pos = pos;
  }

  int position() {
    return pos;
  }

  void seek(int position) {
    pos = position;
  }

  void skip(long n) {
    if (n < 0 || pos + n > data.limit()) {
      throw new IndexOutOfBoundsException("skip " + n + " at " + pos + " of " + data.limit());
    }
    pos += (int) n;
  }

  boolean atEnd() {
    return pos >= data.limit();
  }

  int u8() {
    return Byte.toUnsignedInt(data.get(pos++));
  }

  int u16() {
    int v = Short.toUnsignedInt(data.getShort(pos));
    pos += 2;
    return v;
  }

  long u32() {
    long v = Integer.toUnsignedLong(data.getInt(pos));
    pos += 4;
    return v;
  }

  long u64() {
    long v = data.getLong(pos);
    pos += 8;
    return v;
  }

  /** An unsigned integer of {@code size} bytes (1, 2, 3, 4 or 8). */
  long unsigned(int size) {
    return switch (size) {
      case 1 -> u8();
      case 2 -> u16();
      case 3 -> u16() | ((long) u8() << 16);
      case 4 -> u32();
      case 8 -> u64();
      default -> throw new IllegalArgumentException("size " + size);
    };
  }

  /** An unsigned LEB128 (Go's uvarint); bits past 64 are dropped. */
  long uleb() {
    long result = 0;
    int shift = 0;
    while (true) {
      int b = u8();
      if (shift < 64) {
        result |= (long) (b & 0x7f) << shift;
      }
      shift += 7;
      if ((b & 0x80) == 0) {
        return result;
      }
    }
  }

  /** A signed LEB128. */
  long sleb() {
    long result = 0;
    int shift = 0;
    int b;
    do {
      b = u8();
      if (shift < 64) {
        result |= (long) (b & 0x7f) << shift;
      }
      shift += 7;
    } while ((b & 0x80) != 0);
    if (shift < 64 && (b & 0x40) != 0) {
      result |= -1L << shift;
    }
    return result;
  }

  /** A NUL-terminated UTF-8 string; the cursor moves past the NUL. */
  String cstring() {
    int end = pos;
    while (data.get(end) != 0) {
      end++;
    }
    String s = string(pos, end - pos);
    pos = end + 1;
    return s;
  }

  /** The next {@code length} bytes. */
  byte[] bytes(int length) {
    if (length < 0 || pos + length > data.limit()) {
      throw new IndexOutOfBoundsException("read " + length + " bytes at " + pos + " of " + data.limit());
    }
    byte[] bytes = new byte[length];
    data.get(pos, bytes);
    pos += length;
    return bytes;
  }

  /** {@code length} bytes as UTF-8. */
  String string(int length) {
    if (length < 0 || pos + length > data.limit()) {
      throw new IndexOutOfBoundsException("read " + length + " bytes at " + pos + " of " + data.limit());
    }
    String s = string(pos, length);
    pos += length;
    return s;
  }

  private String string(int at, int length) {
    byte[] bytes = new byte[length];
    data.get(at, bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /** The NUL-terminated UTF-8 string at absolute offset {@code at} of {@code data}. */
  static String cstringAt(ByteBuffer data, int at) {
    return new DataCursor(data, at).cstring();
  }
}
