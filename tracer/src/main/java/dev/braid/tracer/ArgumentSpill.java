package dev.braid.tracer;

import dev.braid.elf.go.Pclntab;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalInt;

/**
 * Where a Go function keeps an integer argument after its prologue. The register ABI passes the
 * first ones in RAX, RBX, RCX, RDI, RSI and reserves a spill slot for each in the caller's frame,
 * above the return address, in order. When an argument lives across a call, the compiler stores
 * it there ({@code MOVQ AX, d(SP)}, d = the frame's size + 8 + 8 * index) and reloads it from
 * there after the call; the runtime keeps it right when it moves the stack. A probe deep in the
 * function can then read the argument. The store is looked for, never assumed.
 */
final class ArgumentSpill {
  /** ModRM reg field of RAX, RBX, RCX, RDI, RSI: the registers of arguments 0 to 4. */
  private static final int[] REGISTERS = {0, 3, 1, 7, 6};

  private ArgumentSpill() {}

  /**
   * Argument {@code index}'s offset from SP at {@code callPc} in function {@code code} (starting
   * at {@code entry}), or empty when the function never stores the argument's register there.
   */
  static OptionalInt slot(ByteBuffer code, long entry, long callPc, int index, Pclntab pclntab) {
    ByteBuffer c = code.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int base = c.position();
    int n = c.limit() - base;
    int reg = REGISTERS[index] << 3;
    boolean stored = false;
    for (int i = 0; i + 5 <= n && !stored; i++) {
      if (c.get(base + i) != 0x48 || c.get(base + i + 1) != (byte) 0x89 || c.get(base + i + 3) != 0x24) {
        continue;
      }
      int modrm = Byte.toUnsignedInt(c.get(base + i + 2));
      long disp;
      if (modrm == (0x44 | reg)) { // MOVQ r, disp8(SP)
        disp = c.get(base + i + 4);
      } else if (modrm == (0x84 | reg) && i + 8 <= n) { // MOVQ r, disp32(SP)
        disp = c.getInt(base + i + 4);
      } else {
        continue;
      }
      OptionalInt delta = pclntab.spDelta(entry + i);
      stored = delta.isPresent() && delta.getAsInt() > 0 && disp == delta.getAsInt() + 8L + 8L * index;
    }
    OptionalInt atCall = pclntab.spDelta(callPc);
    if (!stored || atCall.isEmpty() || atCall.getAsInt() <= 0) {
      return OptionalInt.empty();
    }
    int slot = atCall.getAsInt() + 8 + 8 * index;
    return slot <= 0xffff ? OptionalInt.of(slot) : OptionalInt.empty(); // 16 bits in the cookie
  }
}
