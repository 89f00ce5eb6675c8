package dev.braid.profiler;

import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.StructLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * How the sampler finds the goroutine a thread of one Go process runs: the g pointer's offset
 * from the thread pointer, and the offsets of g.m, m.curg and g.goid (the C struct
 * sample_target of sampler.h).
 */
public record GoroutineLocator(boolean fromGoroutine, int tlsG, int gM, int mCurg, int gGoid) {
  static final StructLayout LAYOUT =
      structLayout(
              JAVA_INT.withName("from_goroutine"),
              JAVA_INT.withName("tls_g"),
              JAVA_INT.withName("g_m"),
              JAVA_INT.withName("m_curg"),
              JAVA_INT.withName("g_goid"),
              JAVA_INT)
          .withName("sample_target");

  /** The thread's traces_ctx_v1 entry, not a goroutine. */
  public static final GoroutineLocator NONE = new GoroutineLocator(false, 0, 0, 0, 0);

  public static GoroutineLocator of(int tlsG, int gM, int mCurg, int gGoid) {
    return new GoroutineLocator(true, tlsG, gM, mCurg, gGoid);
  }

  public byte[] toBytes() {
    return ByteBuffer.allocate((int) LAYOUT.byteSize())
        .order(ByteOrder.LITTLE_ENDIAN)
        .putInt(fromGoroutine ? 1 : 0)
        .putInt(tlsG)
        .putInt(gM)
        .putInt(mCurg)
        .putInt(gGoid)
        .putInt(0)
        .array();
  }
}
