package dev.braid.tracer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class PrologueTest {
  private static int jbe(int... bytes) {
    byte[] b = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      b[i] = (byte) bytes[i];
    }
    return Prologue.jbeOffset(ByteBuffer.wrap(b));
  }

  @Test
  void smallFrameNearJump() {
    // CMPQ SP, 0x10(R14); JBE rel32  (runtime.execute, Go 1.26)
    assertThat(jbe(0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0xe5, 0x01, 0x00, 0x00, 0x55)).isEqualTo(4);
  }

  @Test
  void aSystemStackFunctionChecksStackguard1() {
    // CMPQ SP, 0x18(R14); JBE rel32  (runtime.preemptPark, Go 1.26)
    assertThat(jbe(0x49, 0x3b, 0x66, 0x18, 0x0f, 0x86, 0xc1, 0x02, 0x00, 0x00, 0x55)).isEqualTo(4);
  }

  @Test
  void smallFrameShortJump() {
    assertThat(jbe(0x49, 0x3b, 0x66, 0x10, 0x76, 0x20, 0x55)).isEqualTo(4);
  }

  @Test
  void largeFrameWithByteDisplacement() {
    // LEAQ -0x40(SP), R12; CMPQ R12, 0x10(R14); JBE
    assertThat(jbe(0x4c, 0x8d, 0x64, 0x24, 0xc0, 0x4d, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0, 0, 0, 0)).isEqualTo(9);
  }

  @Test
  void largeFrameWithWordDisplacement() {
    // LEAQ -0x400(SP), R12; CMPQ R12, 0x10(R14); JBE
    assertThat(jbe(0x4c, 0x8d, 0xa4, 0x24, 0x00, 0xfc, 0xff, 0xff, 0x4d, 0x3b, 0x66, 0x10, 0x76, 0x10)).isEqualTo(12);
  }

  @Test
  void anythingElseIsProbedAtTheEntry() {
    assertThat(jbe(0x48, 0x89, 0xc2, 0xc3)).isZero(); // MOVQ AX, DX; RET (no frame)
    assertThat(jbe(0x49, 0x3b, 0x66, 0x10, 0x74, 0x10)).isZero(); // a JEQ is not the bound check's JBE
    assertThat(jbe(0x49, 0x3b)).isZero(); // too short
  }
}
