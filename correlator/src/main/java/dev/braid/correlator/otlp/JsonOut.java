package dev.braid.correlator.otlp;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte buffer that writes JSON tokens: just enough for OTLP/JSON lines, written
 * without building objects first. Strings are escaped as RFC 8259 requires. Not thread-safe.
 */
public final class JsonOut {
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  /** The most a single write hands the OutputStream (see {@link #writeTo}). */
  static final int WRITE_CHUNK = 1 << 16;

  private byte[] buf = new byte[1 << 16];
  private int n;
  // The strings written most (names, paths, keys, hosts) recur: their escaped bytes are kept,
  // direct-mapped by hash (most are the same interned objects, which equals() finds at once).
  private static final int CACHE = 512;
  private final String[] cachedStrings = new String[CACHE];
  private final byte[][] cachedBytes = new byte[CACHE][];

  public JsonOut raw(String ascii) {
    ensure(ascii.length());
    for (int i = 0; i < ascii.length(); i++) {
      buf[n++] = (byte) ascii.charAt(i);
    }
    return this;
  }

  /** Bytes already encoded as JSON. */
  JsonOut bytes(byte[] encoded) {
    ensure(encoded.length);
    System.arraycopy(encoded, 0, buf, n, encoded.length);
    n += encoded.length;
    return this;
  }

  public JsonOut raw(char c) {
    ensure(1);
    buf[n++] = (byte) c;
    return this;
  }

  /** A JSON string: quoted and escaped; non-ASCII text as UTF-8. */
  public JsonOut string(String s) {
    int slot = s.hashCode() & (CACHE - 1);
    byte[] encoded = s.equals(cachedStrings[slot]) ? cachedBytes[slot] : null;
    if (encoded == null) {
      int start = n;
      escaped(s);
      encoded = Arrays.copyOfRange(buf, start, n);
      cachedStrings[slot] = s;
      cachedBytes[slot] = encoded;
      return this;
    }
    return bytes(encoded);
  }

  private void escaped(String s) {
    ensure(s.length() * 6 + 2);
    buf[n++] = '"';
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        buf[n++] = (byte) c;
      } else if (c == '"' || c == '\\') {
        buf[n++] = '\\';
        buf[n++] = (byte) c;
      } else if (c < 0x20) {
        buf[n++] = '\\';
        buf[n++] = 'u';
        buf[n++] = '0';
        buf[n++] = '0';
        buf[n++] = HEX[c >> 4];
        buf[n++] = HEX[c & 0xf];
      } else {
        int end = i + 1;
        while (end < s.length() && s.charAt(end) >= 0x80) {
          end++;
        }
        byte[] utf8 = s.substring(i, end).getBytes(StandardCharsets.UTF_8);
        ensure(utf8.length);
        System.arraycopy(utf8, 0, buf, n, utf8.length);
        n += utf8.length;
        i = end - 1;
      }
    }
    buf[n++] = '"';
  }

  /** 16 lower-case hex digits of {@code v}, big-endian (an id's 8 bytes in W3C order). */
  JsonOut hex(long v) {
    ensure(16);
    for (int shift = 60; shift >= 0; shift -= 4) {
      buf[n++] = HEX[(int) (v >>> shift) & 0xf];
    }
    return this;
  }

  /** A number written as a JSON string: how OTLP/JSON carries 64-bit integers. */
  JsonOut quoted(long v) {
    return raw('"').number(v).raw('"');
  }

  public JsonOut number(long v) {
    if (v < 0) {
      if (v == Long.MIN_VALUE) {
        return raw(Long.toString(v));
      }
      raw('-');
      v = -v;
    }
    ensure(19);
    // Nine digits at a time: one 64-bit division per chunk, the rest in 32-bit arithmetic (a
    // timestamp in nanoseconds has 19 digits; digit by digit, they cost most of a span's line).
    if (v < BILLION) {
      digits((int) v);
    } else if (v < BILLION * BILLION) {
      digits((int) (v / BILLION));
      nineDigits((int) (v % BILLION));
    } else {
      long high = v / BILLION;
      digits((int) (high / BILLION));
      nineDigits((int) (high % BILLION));
      nineDigits((int) (v % BILLION));
    }
    return this;
  }

  private static final long BILLION = 1_000_000_000L;

  /** {@code v} (0 to 999,999,999) without leading zeros. */
  private void digits(int v) {
    int count = 1;
    for (int bound = 10; count < 9 && v >= bound; bound *= 10) {
      count++;
    }
    fill(v, count);
  }

  /** {@code v} (0 to 999,999,999) as exactly nine digits. */
  private void nineDigits(int v) {
    fill(v, 9);
  }

  /** "00" to "99": two digits a division. */
  private static final byte[] DIGIT_PAIRS = new byte[200];

  static {
    for (int i = 0; i < 100; i++) {
      DIGIT_PAIRS[2 * i] = (byte) ('0' + i / 10);
      DIGIT_PAIRS[2 * i + 1] = (byte) ('0' + i % 10);
    }
  }

  private void fill(int v, int count) {
    int i = n + count;
    for (int left = count; left >= 2; left -= 2) {
      int q = v / 100;
      int pair = 2 * (v - q * 100);
      buf[--i] = DIGIT_PAIRS[pair + 1];
      buf[--i] = DIGIT_PAIRS[pair];
      v = q;
    }
    if ((count & 1) != 0) {
      buf[--i] = (byte) ('0' + v);
    }
    n += count;
  }

  /** {@code "name":} */
  public JsonOut field(String name) {
    return raw('"').raw(name).raw("\":");
  }

  /** What was written, as text. */
  @Override
  public String toString() {
    return new String(buf, 0, n, StandardCharsets.UTF_8);
  }

  /** A copy of what was written. */
  byte[] toBytes() {
    return Arrays.copyOf(buf, n);
  }

  /**
   * Writes what was written in parts of {@link #WRITE_CHUNK} bytes: a line of a thousand spans is
   * ~600 KiB, and whole, its copies (into the JDK's native buffer, then the page cache) outgrow the
   * CPU's caches; measured, such writes cost about the same per byte on average, and up to 2.5x
   * more in some rounds, where 64 KiB parts stayed steady.
   */
  public void writeTo(OutputStream out) throws IOException {
    for (int at = 0; at < n; at += WRITE_CHUNK) {
      out.write(buf, at, Math.min(WRITE_CHUNK, n - at));
    }
  }

  public void reset() {
    n = 0;
  }

  private void ensure(int more) {
    if (n + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + more));
    }
  }
}
