package dev.braid.tracer;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.bpf.MalformedRecordException;
import dev.braid.bpf.testing.RingRecords;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fuzzes the decoder of the tracer's ring-buffer records. Their fields come from braid's probes,
 * but what the probes copy (paths, hosts, the JSON of --auto-sdk spans, lengths) comes from the
 * traced process: a record may only decode, or be refused with {@link MalformedRecordException},
 * which the reader counts.
 */
class SpanEventDecoderFuzzTest {
  private static final Map<Integer, StructLayout> KINDS = Map.of(
      SpanEventDecoder.EVENT_SPAN_START, SpanEventDecoder.SPAN_START,
      SpanEventDecoder.EVENT_SPAN_END, SpanEventDecoder.SPAN_END,
      SpanEventDecoder.EVENT_HANDOFF, SpanEventDecoder.HANDOFF,
      SpanEventDecoder.EVENT_APP_SERVER_SPAN, SpanEventDecoder.APP_SERVER_SPAN,
      SpanEventDecoder.EVENT_APP_ROOT_SPAN, SpanEventDecoder.APP_SERVER_SPAN,
      SpanEventDecoder.EVENT_AUTO_SDK_SWITCH, SpanEventDecoder.AUTO_SDK_SWITCH);

  private final StringInterner strings = new StringInterner();

  /** The record as the ring buffer hands it over: 8-byte aligned, exactly as long as written. */
  @MethodSource("recordOfEachKind")
  @FuzzTest(maxDuration = "10m")
  @Timeout(10)
  void decode(byte[] input) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment record = RingRecords.of(arena, input);
      try {
        SpanEventDecoder.decode(record, strings);
      } catch (MalformedRecordException e) {
        // Refused, and counted by the reader.
      }
    }
  }

  /** Seeds: a record of every kind at its layout's size (the API span's with 32 bytes of JSON), kind set, the rest zero. */
  static Stream<byte[]> recordOfEachKind() {
    List<byte[]> seeds = new ArrayList<>();
    KINDS.forEach((kind, layout) -> seeds.add(record(kind, layout.byteSize())));
    long apiHeader = SpanEventDecoder.API_SPAN.byteSize() - SpanEventDecoder.API_SPAN.select(
        java.lang.foreign.MemoryLayout.PathElement.groupElement("json")).byteSize();
    byte[] api = record(SpanEventDecoder.EVENT_API_SPAN, apiHeader + 32);
    MemorySegment s = MemorySegment.ofArray(api);
    s.set(ValueLayout.JAVA_INT_UNALIGNED, apiHeader - 4, 32); // json_len
    s.set(ValueLayout.JAVA_INT_UNALIGNED, apiHeader - 8, 32); // json_size
    s.set(ValueLayout.JAVA_LONG_UNALIGNED, SpanEventDecoder.HEADER.byteSize(), 1); // a valid span context
    s.set(ValueLayout.JAVA_LONG_UNALIGNED, SpanEventDecoder.HEADER.byteSize() + 16, 1);
    seeds.add(api);
    return seeds.stream();
  }

  private static byte[] record(int kind, long size) {
    byte[] b = new byte[(int) size];
    MemorySegment.ofArray(b).set(ValueLayout.JAVA_INT_UNALIGNED, 0, kind);
    return b;
  }
}
