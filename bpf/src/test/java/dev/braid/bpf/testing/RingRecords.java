package dev.braid.bpf.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Ring-buffer records for decoder tests: bytes as the ring buffer hands them over. */
public final class RingRecords {
  private RingRecords() {}

  /** {@code bytes} in memory of {@code arena}, 8-byte aligned and exactly as long, as libbpf passes a record. */
  public static MemorySegment of(Arena arena, byte[] bytes) {
    MemorySegment record = arena.allocate(Math.max(1, bytes.length), 8).asSlice(0, bytes.length);
    record.copyFrom(MemorySegment.ofArray(bytes));
    return record;
  }
}
