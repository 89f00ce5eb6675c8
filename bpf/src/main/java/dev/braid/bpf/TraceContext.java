package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * A {@code struct trace_context} of traces_ctx_v1: a trace id (16 bytes) and a span id (8
 * bytes), raw bytes in W3C order. Held as three big-endian longs, so that decoding, hashing and
 * comparing cost no allocation; the lower-case hex that OpenTelemetry spells them in is made on
 * demand. Immutable; thread-safe.
 */
public final class TraceContext {
  /** Size of the C struct: 16 + 8 bytes, no padding. */
  public static final int SIZE = 24;

  private static final HexFormat HEX = HexFormat.of();

  private final long traceHigh;
  private final long traceLow;
  private final long span;

  private TraceContext(long traceHigh, long traceLow, long span) {
    this.traceHigh = traceHigh;
    this.traceLow = traceLow;
    this.span = span;
  }

  /** From hex: 32 digits of trace id, 16 of span id. */
  public TraceContext(String traceId, String spanId) {
    this(parse(traceId, 32, 0), parse(traceId, 32, 16), parse(spanId, 16, 0));
  }

  private static long parse(String hex, int digits, int from) {
    if (hex.length() != digits) {
      throw new IllegalArgumentException("want " + digits + " hex digits: " + hex);
    }
    return HexFormat.fromHexDigitsToLong(hex, from, from + 16);
  }

  /** Decodes the struct at {@code offset} of {@code segment} (bytes in W3C order). */
  public static TraceContext read(MemorySegment segment, long offset) {
    return new TraceContext(
        Long.reverseBytes(segment.get(JAVA_LONG_UNALIGNED, offset)),
        Long.reverseBytes(segment.get(JAVA_LONG_UNALIGNED, offset + 8)),
        Long.reverseBytes(segment.get(JAVA_LONG_UNALIGNED, offset + 16)));
  }

  public static TraceContext fromBytes(byte[] bytes) {
    if (bytes.length < SIZE) {
      throw new IllegalArgumentException("a trace_context has " + SIZE + " bytes, got " + bytes.length);
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
    return new TraceContext(b.getLong(0), b.getLong(8), b.getLong(16));
  }

  public byte[] toBytes() {
    return ByteBuffer.allocate(SIZE).order(ByteOrder.BIG_ENDIAN).putLong(traceHigh).putLong(traceLow).putLong(span).array();
  }

  /** The trace id as 32 lower-case hex digits. */
  public String traceId() {
    return HEX.toHexDigits(traceHigh) + HEX.toHexDigits(traceLow);
  }

  /** The span id as 16 lower-case hex digits. */
  public String spanId() {
    return HEX.toHexDigits(span);
  }

  /** The trace id's first 8 bytes, as a big-endian long. */
  public long traceHigh() {
    return traceHigh;
  }

  /** The trace id's last 8 bytes, as a big-endian long. */
  public long traceLow() {
    return traceLow;
  }

  /** The span id's 8 bytes, as a big-endian long. */
  public long span() {
    return span;
  }

  /** The contract exports a context only when both IDs are non-zero. */
  public boolean isValid() {
    return (traceHigh != 0 || traceLow != 0) && span != 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TraceContext t && t.traceHigh == traceHigh && t.traceLow == traceLow && t.span == span;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(traceHigh * 31 + traceLow) * 31 + Long.hashCode(span);
  }

  @Override
  public String toString() {
    return "TraceContext[traceId=" + traceId() + ", spanId=" + spanId() + "]";
  }
}
