package dev.braid.profiler;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.braid.bpf.MalformedRecordException;
import dev.braid.bpf.TraceContext;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** Decodes {@code struct sample_event} of bpf/src/main/c/sampler.h. */
final class SampleEventDecoder {
  static final int MAX_STACK_DEPTH = 127;
  static final int COMM_LEN = 16;

  static final StructLayout SAMPLE =
      structLayout(
              JAVA_INT.withName("pid"),
              JAVA_INT.withName("tid"),
              JAVA_LONG.withName("time_ns"),
              JAVA_INT.withName("cpu"),
              JAVA_INT.withName("user_len"),
              JAVA_INT.withName("kernel_len"),
              JAVA_INT.withName("has_context"),
              sequenceLayout(TraceContext.SIZE, JAVA_BYTE).withName("context"),
              JAVA_LONG.withName("user_sp_word"),
              sequenceLayout(COMM_LEN, JAVA_BYTE).withName("comm"),
              sequenceLayout(MAX_STACK_DEPTH, JAVA_LONG).withName("user_stack"),
              sequenceLayout(MAX_STACK_DEPTH, JAVA_LONG).withName("kernel_stack"))
          .withName("sample_event");

  private static final long TIME = SAMPLE.byteOffset(groupElement("time_ns"));
  private static final long CPU = SAMPLE.byteOffset(groupElement("cpu"));
  private static final long USER_LEN = SAMPLE.byteOffset(groupElement("user_len"));
  private static final long KERNEL_LEN = SAMPLE.byteOffset(groupElement("kernel_len"));
  private static final long HAS_CONTEXT = SAMPLE.byteOffset(groupElement("has_context"));
  private static final long CONTEXT = SAMPLE.byteOffset(groupElement("context"));
  private static final long USER_SP_WORD = SAMPLE.byteOffset(groupElement("user_sp_word"));
  private static final long COMM = SAMPLE.byteOffset(groupElement("comm"));
  private static final long USER_STACK = SAMPLE.byteOffset(groupElement("user_stack"));
  private static final long KERNEL_STACK = SAMPLE.byteOffset(groupElement("kernel_stack"));

  private SampleEventDecoder() {}

  static StackSample decode(MemorySegment r) {
    if (r.byteSize() < SAMPLE.byteSize()) {
      throw new MalformedRecordException("sample_event of " + r.byteSize() + " bytes, want " + SAMPLE.byteSize());
    }
    Optional<TraceContext> context = Optional.empty();
    if (r.get(JAVA_INT, HAS_CONTEXT) != 0) {
      TraceContext ctx = TraceContext.read(r, CONTEXT);
      if (ctx.isValid()) { // the contract: only when both IDs are non-zero
        context = Optional.of(ctx);
      }
    }
    return new StackSample(
        r.get(JAVA_INT, 0),
        r.get(JAVA_INT, 4),
        r.get(JAVA_LONG, TIME),
        r.get(JAVA_INT, CPU),
        comm(r),
        context,
        stack(r, USER_STACK, r.get(JAVA_INT, USER_LEN)),
        stack(r, KERNEL_STACK, r.get(JAVA_INT, KERNEL_LEN)),
        r.get(JAVA_LONG, USER_SP_WORD));
  }

  /** bpf_get_stack() returns bytes written, or a negative errno (then: no stack). */
  private static long[] stack(MemorySegment r, long offset, int bytes) {
    int n = bytes <= 0 ? 0 : Math.min(bytes / 8, MAX_STACK_DEPTH);
    return r.asSlice(offset, n * 8L).toArray(JAVA_LONG);
  }

  private static String comm(MemorySegment r) {
    byte[] b = r.asSlice(COMM, COMM_LEN).toArray(JAVA_BYTE);
    int end = 0;
    while (end < b.length && b[end] != 0) {
      end++;
    }
    return new String(b, 0, end, StandardCharsets.UTF_8);
  }
}
