package dev.braid.tracer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the direct calls ({@code E8 rel32}) of one function in another's code. Go's amd64
 * compiler emits every static call this way. A byte pattern that only looks like such a call
 * would need its four displacement bytes to hit the callee's entry exactly.
 */
final class CallSites {
  private static final int CALL_REL32 = 0xe8;
  static final int CALL_LENGTH = 5;

  private CallSites() {}

  /**
   * Addresses of the CALLs of {@code callee} in {@code code}, which starts at address {@code
   * start}.
   */
  static List<Long> callsTo(ByteBuffer code, long start, long callee) {
    ByteBuffer c = code.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int base = c.position();
    int n = c.limit() - base;
    List<Long> calls = new ArrayList<>();
    for (int i = 0; i + CALL_LENGTH <= n; i++) {
      if (Byte.toUnsignedInt(c.get(base + i)) != CALL_REL32) {
        continue;
      }
      long next = start + i + CALL_LENGTH;
      if (next + c.getInt(base + i + 1) == callee) {
        calls.add(start + i);
      }
    }
    return calls;
  }
}
