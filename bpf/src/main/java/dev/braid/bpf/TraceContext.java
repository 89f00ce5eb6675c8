package dev.braid.bpf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;

/**
 * A {@code struct trace_context} of traces_ctx_v1: a trace id (16 bytes) and a span id (8 bytes),
 * kept as lower-case hex in W3C order, as OpenTelemetry spells them.
 */
public record TraceContext(String traceId, String spanId) {
  /** Size of the C struct: 16 + 8 bytes, no padding. */
  public static final int SIZE = 24;

  private static final HexFormat HEX = HexFormat.of();
  private static final String ZERO_TRACE = "0".repeat(32);
  private static final String ZERO_SPAN = "0".repeat(16);

  public TraceContext {
    if (traceId.length() != 32 || spanId.length() != 16) {
      throw new IllegalArgumentException("trace id needs 32 hex digits and span id 16: " + traceId + "/" + spanId);
    }
  }

  /** Decodes the struct at {@code offset} of {@code segment}. */
  public static TraceContext read(MemorySegment segment, long offset) {
    byte[] bytes = segment.asSlice(offset, SIZE).toArray(ValueLayout.JAVA_BYTE);
    return fromBytes(bytes);
  }

  public static TraceContext fromBytes(byte[] bytes) {
    if (bytes.length < SIZE) {
      throw new IllegalArgumentException("a trace_context has " + SIZE + " bytes, got " + bytes.length);
    }
    return new TraceContext(HEX.formatHex(bytes, 0, 16), HEX.formatHex(bytes, 16, SIZE));
  }

  public byte[] toBytes() {
    byte[] out = new byte[SIZE];
    System.arraycopy(HEX.parseHex(traceId), 0, out, 0, 16);
    System.arraycopy(HEX.parseHex(spanId), 0, out, 16, 8);
    return out;
  }

  /** The contract exports a context only when both IDs are non-zero. */
  public boolean isValid() {
    return !traceId.equals(ZERO_TRACE) && !spanId.equals(ZERO_SPAN);
  }
}
