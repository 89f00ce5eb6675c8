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

  /** {@code LEAQ disp32(IP), reg}: REX.W (0x48, or 0x4c for R8-R15), 0x8D, ModRM with mod 00 and r/m 101. */
  private static final int LEA_LENGTH = 7;

  /**
   * The addresses that RIP-relative LEAQs in {@code code} (at {@code start}) load in the {@code
   * window} bytes before each of {@code sites}: how Go's compiler passes a goroutine's function
   * (a closure's code, or a static funcval) to runtime.newproc.
   */
  static List<Long> addressesLoadedBefore(ByteBuffer code, long start, List<Long> sites, int window) {
    ByteBuffer c = code.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int base = c.position();
    int n = c.limit() - base;
    List<Long> loaded = new ArrayList<>();
    for (int i = 0; i + LEA_LENGTH <= n; i++) {
      int rex = Byte.toUnsignedInt(c.get(base + i));
      if ((rex != 0x48 && rex != 0x4c) || Byte.toUnsignedInt(c.get(base + i + 1)) != 0x8d || (Byte.toUnsignedInt(c.get(base + i + 2)) & 0xc7) != 0x05) {
        continue;
      }
      long at = start + i;
      if (sites.stream().anyMatch(site -> at < site && site - at <= window)) {
        loaded.add(at + LEA_LENGTH + c.getInt(base + i + 3));
      }
    }
    return loaded;
  }
}
