package dev.braid.profiler;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.bpf.MalformedRecordException;
import dev.braid.bpf.testing.RingRecords;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fuzzes the decoder of the sampler's ring-buffer records, whose stack lengths and thread names
 * the kernel fills from the sampled thread: a record may only decode, or be refused with {@link
 * MalformedRecordException}, which the reader counts.
 */
class SampleEventDecoderFuzzTest {
  @MethodSource("samples")
  @FuzzTest(maxDuration = "10m")
  @Timeout(10)
  void decode(byte[] input) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment record = RingRecords.of(arena, input);
      try {
        StackSample sample = SampleEventDecoder.decode(record);
        if (sample.userStack().length > SampleEventDecoder.MAX_STACK_DEPTH || sample.kernelStack().length > SampleEventDecoder.MAX_STACK_DEPTH) {
          throw new AssertionError("a stack deeper than the record can hold");
        }
      } catch (MalformedRecordException e) {
        // Refused, and counted by the reader.
      }
    }
  }

  /** Seeds: an empty sample, and one with three user frames, two kernel frames, a context and a name. */
  static Stream<byte[]> samples() {
    long size = SampleEventDecoder.SAMPLE.byteSize();
    byte[] empty = new byte[(int) size];
    byte[] full = new byte[(int) size];
    MemorySegment s = MemorySegment.ofArray(full);
    s.set(ValueLayout.JAVA_INT_UNALIGNED, offset("user_len"), 24);
    s.set(ValueLayout.JAVA_INT_UNALIGNED, offset("kernel_len"), 16);
    s.set(ValueLayout.JAVA_INT_UNALIGNED, offset("has_context"), 1);
    s.set(ValueLayout.JAVA_LONG_UNALIGNED, offset("context"), 7);
    s.set(ValueLayout.JAVA_LONG_UNALIGNED, offset("context") + 16, 9);
    s.set(ValueLayout.JAVA_BYTE, offset("comm"), (byte) 's');
    for (int i = 0; i < 3; i++) {
      s.set(ValueLayout.JAVA_LONG_UNALIGNED, offset("user_stack") + 8L * i, 0x401000 + i);
    }
    return Stream.of(empty, full);
  }

  private static long offset(String field) {
    return SampleEventDecoder.SAMPLE.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement(field));
  }
}
