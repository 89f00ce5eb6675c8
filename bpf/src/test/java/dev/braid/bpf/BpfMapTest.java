package dev.braid.bpf;

import static dev.braid.bpf.LittleEndian.u32;
import static dev.braid.bpf.LittleEndian.u64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.braid.bpf.testing.Kernel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("kernel")
class BpfMapTest {
  private BpfObject obj;
  private BpfMap plain;

  @BeforeEach
  void load() {
    Kernel.requireBpf();
    obj = BpfObject.openResource("/bpf/test_maps.bpf.o");
    obj.load();
    plain = obj.map("plain");
  }

  @AfterEach
  void close() {
    if (obj != null) {
      obj.close();
    }
  }

  @Test
  void updateThenLookupReturnsTheValue() {
    plain.update(u32(7), u64(0x1122334455667788L));
    assertThat(plain.lookup(u32(7))).hasValueSatisfying(v -> assertThat(v).isEqualTo(u64(0x1122334455667788L)));
  }

  @Test
  void aMissingKeyIsEmptyNotAnError() {
    assertThat(plain.lookup(u32(1))).isEmpty();
    assertThat(plain.delete(u32(1))).isFalse();
  }

  @Test
  void deleteRemovesTheKey() {
    plain.update(u32(3), u64(1));
    assertThat(plain.delete(u32(3))).isTrue();
    assertThat(plain.lookup(u32(3))).isEmpty();
  }

  @Test
  void keysListsEveryEntry() {
    for (int k = 10; k < 15; k++) {
      plain.update(u32(k), u64(k));
    }
    assertThat(plain.keys())
        .extracting(k -> ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN).getInt())
        .containsExactlyInAnyOrder(10, 11, 12, 13, 14);
  }

  @Test
  void aFullMapReportsE2big() {
    for (int k = 0; k < 64; k++) {
      plain.update(u32(k), u64(k));
    }
    assertThatThrownBy(() -> plain.update(u32(64), u64(64)))
        .isInstanceOf(BpfMapException.class)
        .hasMessageStartingWith("map plain: update: E2BIG (7)")
        .extracting(e -> ((BpfException) e).errno())
        .isEqualTo(Errno.E2BIG);
  }

  @Test
  void perCpuValuesAreSummed() {
    int cpus = Cpus.possible();
    ByteBuffer all = ByteBuffer.allocate(8 * cpus).order(ByteOrder.LITTLE_ENDIAN);
    for (int cpu = 0; cpu < cpus; cpu++) {
      all.putLong(cpu + 1);
    }
    obj.map("counters").update(u32(1), all.array());
    assertThat(obj.map("counters").sumPerCpu(1)).isEqualTo((long) cpus * (cpus + 1) / 2);
  }

  @Test
  void infoDescribesTheMap() {
    MapInfo info = plain.info();
    assertThat(info.name()).isEqualTo("plain");
    assertThat(info.typeName()).isEqualTo("hash");
    assertThat(info.keySize()).isEqualTo(4);
    assertThat(info.valueSize()).isEqualTo(8);
    assertThat(info.maxEntries()).isEqualTo(64);
  }

  @Test
  void sizesCannotChangeAfterLoad() {
    assertThatThrownBy(() -> plain.setMaxEntries(128))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("map plain: set max_entries must happen before load");
  }
}
