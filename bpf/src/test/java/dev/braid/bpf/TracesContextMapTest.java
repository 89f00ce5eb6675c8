package dev.braid.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("kernel")
class TracesContextMapTest {
  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void theFirstObjectPinsAndTheNextReusesThePin() throws Exception {
    try (PinRoot root = PinRoot.create();
        BpfObject first = BpfObject.openResource("/bpf/tracer.bpf.o");
        BpfObject second = BpfObject.openResource("/bpf/sampler.bpf.o")) {
      try (TracesContextMap.Sharing sharing = TracesContextMap.beforeLoad(first, root.path())) {
        assertThat(sharing.reusedPin()).isFalse();
        first.load();
        sharing.afterLoad();
      }
      Path pin = TracesContextMap.pinPath(root.path());
      assertThat(pin).exists();
      // The directory is 01700: owner only, sticky.
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pin.getParent()))).isEqualTo("rwx------");
      assertThat(Files.getAttribute(pin.getParent(), "unix:mode")).isEqualTo(041700);

      try (TracesContextMap.Sharing sharing = TracesContextMap.beforeLoad(second, root.path())) {
        assertThat(sharing.reusedPin()).isTrue();
        second.load();
        sharing.afterLoad();
      }
      // One map seen by both: what one writes, the other reads.
      TraceContext ctx = new TraceContext("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
      first.map("traces_ctx_v1").update(TracesContextMap.key(42, 43), ctx.toBytes());
      assertThat(second.map("traces_ctx_v1").lookup(TracesContextMap.key(42, 43)).map(TraceContext::fromBytes))
          .contains(ctx);
      assertThat(second.map("traces_ctx_v1").info().id()).isEqualTo(first.map("traces_ctx_v1").info().id());
    }
  }

  @Test
  void aForeignLayoutIsRefusedByNameAndLeftAlone() throws Exception {
    try (PinRoot root = PinRoot.create();
        BpfObject foreign = BpfObject.openResource("/bpf/test_foreign_pin.bpf.o");
        BpfObject ours = BpfObject.openResource("/bpf/tracer.bpf.o")) {
      foreign.load();
      Path pin = TracesContextMap.pinPath(root.path());
      Files.createDirectory(pin.getParent());
      foreign.map("traces_ctx_v1").pin(pin);
      int idBefore = foreign.map("traces_ctx_v1").info().id();

      assertThatThrownBy(() -> TracesContextMap.beforeLoad(ours, root.path()))
          .isInstanceOf(IncompatiblePinException.class)
          .hasMessageContaining("type hash (want lru_hash)")
          .hasMessageContaining("value size 16 (want 24)")
          .hasMessageContaining("max_entries 4096 (want 16384)")
          .hasMessageContaining("left untouched");
      try (BpfMap still = BpfMap.openPinned(pin).orElseThrow()) {
        assertThat(still.info().id()).isEqualTo(idBefore);
      }
    }
  }

  @Test
  void aPinRootOffBpffsIsExplained(@TempDir Path dir) {
    assertThatThrownBy(() -> TracesContextMap.requireBpffs(dir))
        .isInstanceOf(BpfNotSupportedException.class)
        .hasMessageContaining("not bpffs")
        .hasMessageContaining("mount -t bpf bpf " + dir);
  }

  @Test
  void keysAreTgidAboveTid() {
    assertThat(TracesContextMap.keyValue(TracesContextMap.key(0x1234, 0x5678))).isEqualTo(0x0000123400005678L);
  }
}
