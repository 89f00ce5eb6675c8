package dev.braid.profiler;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.braid.bpf.TraceContext;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import java.util.Optional;

/** The sampler's ring buffer records, written and read as sampler.bpf.c lays them out (for benchmarks). */
public final class SampleEvents {
  private SampleEvents() {}

  /** A record as the sampler writes it. */
  public static MemorySegment record(
      Arena arena, int pid, int tid, long timeNs, Optional<TraceContext> context, long[] userStack, long[] kernelStack, long userSpWord) {
    MemorySegment r = arena.allocate(SampleEventDecoder.SAMPLE);
    r.set(JAVA_INT, 0, pid);
    r.set(JAVA_INT, 4, tid);
    r.set(JAVA_LONG, SampleEventDecoder.SAMPLE.byteOffset(groupElement("time_ns")), timeNs);
    r.set(JAVA_INT, SampleEventDecoder.SAMPLE.byteOffset(groupElement("user_len")), userStack.length * 8);
    r.set(JAVA_INT, SampleEventDecoder.SAMPLE.byteOffset(groupElement("kernel_len")), kernelStack.length * 8);
    r.set(JAVA_LONG, SampleEventDecoder.SAMPLE.byteOffset(groupElement("user_sp_word")), userSpWord);
    MemorySegment.copy(
        MemorySegment.ofArray(kernelStack), 0, r, SampleEventDecoder.SAMPLE.byteOffset(groupElement("kernel_stack")), kernelStack.length * 8L);
    context.ifPresent(c -> {
      r.set(JAVA_INT, SampleEventDecoder.SAMPLE.byteOffset(groupElement("has_context")), 1);
      MemorySegment.copy(MemorySegment.ofArray(HexFormat.of().parseHex(c.traceId() + c.spanId())), 0, r,
          SampleEventDecoder.SAMPLE.byteOffset(groupElement("context")), TraceContext.SIZE);
    });
    MemorySegment.copy(MemorySegment.ofArray(userStack), 0, r, SampleEventDecoder.SAMPLE.byteOffset(groupElement("user_stack")), userStack.length * 8L);
    return r;
  }

  public static StackSample decode(MemorySegment record) {
    return SampleEventDecoder.decode(record);
  }
}
