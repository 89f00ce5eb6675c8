package dev.braid.elf.go;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The pc-value encoding, on tables written by hand from runtime.step's rules. */
class PcValueTableTest {

  private static ByteBuffer bytes(int... b) {
    ByteBuffer buf = ByteBuffer.allocate(b.length + 1).order(ByteOrder.LITTLE_ENDIAN);
    buf.put((byte) 0x55); // offset 0 means "no table", so tables start at 1
    for (int v : b) {
      buf.put((byte) v);
    }
    return buf.flip();
  }

  @Test
  void zigZagValueDeltasAndQuantumScaledPcDeltas() {
    // +5 (zig-zag 10) for 4 quanta, then -2 (zig-zag 3) for 3 quanta, then the terminator; quantum 2.
    PcValueTable t = PcValueTable.decode(bytes(10, 4, 3, 3, 0), 1, 2, 1000);
    assertThat(t.valueAt(0)).isEqualTo(4);
    assertThat(t.valueAt(7)).isEqualTo(4);
    assertThat(t.valueAt(8)).isEqualTo(2);
    assertThat(t.valueAt(13)).isEqualTo(2);
    assertThat(t.valueAt(14)).isEqualTo(-1);
    assertThat(t.valueAt(-1)).isEqualTo(-1);
  }

  @Test
  void firstPairMayKeepTheInitialMinusOne() {
    // A zero value delta ends a table, except in the first pair (runtime.step's "first").
    PcValueTable t = PcValueTable.decode(bytes(0, 2, 2, 1, 0), 1, 1, 1000);
    assertThat(t.valueAt(1)).isEqualTo(-1);
    assertThat(t.valueAt(2)).isZero();
    assertThat(t.valueAt(3)).isEqualTo(-1);
  }

  @Test
  void multiByteVarints() {
    // value +100 (zig-zag 200 = 0xc8 0x01), pc delta 300 (0xac 0x02).
    PcValueTable t = PcValueTable.decode(bytes(0xc8, 0x01, 0xac, 0x02, 0), 1, 1, 1000);
    assertThat(t.valueAt(299)).isEqualTo(99);
    assertThat(t.valueAt(300)).isEqualTo(-1);
  }

  @Test
  void offsetZeroIsNoTableAndDecodingStopsAtTheFunctionEnd() {
    assertThat(PcValueTable.decode(bytes(10, 4, 0), 0, 1, 1000).valueAt(0)).isEqualTo(-1);
    // No terminator: stops once the function's 6 bytes are covered instead of reading on.
    PcValueTable t = PcValueTable.decode(bytes(2, 4, 2, 4, 2, 4, 2, 4), 1, 1, 6);
    assertThat(t.valueAt(5)).isEqualTo(1);
    assertThat(t.valueAt(8)).isEqualTo(-1);
  }

  @Test
  void signedLeb128() {
    DataCursor c = new DataCursor(bytes(0x7f, 0x80, 0x7f, 0xff, 0x00), 1);
    assertThat(c.sleb()).isEqualTo(-1);
    assertThat(c.sleb()).isEqualTo(-128);
    assertThat(c.sleb()).isEqualTo(127);
  }

  @Test
  void genericNamesPrintAsTheRuntimePrintsThem() {
    assertThat(Pclntab.forPrint("slices.Sort[go.shape.int]")).isEqualTo("slices.Sort[...]");
    assertThat(Pclntab.forPrint("main.(*T[go.shape.int]).M")).isEqualTo("main.(*T[...]).M");
    assertThat(Pclntab.forPrint("main.main")).isEqualTo("main.main");
  }
}
