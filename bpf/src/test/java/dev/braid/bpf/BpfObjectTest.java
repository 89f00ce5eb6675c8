package dev.braid.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.braid.bpf.testing.Kernel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("kernel")
class BpfObjectTest {
  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void openReadsBtfWithoutLoading() {
    try (BpfObject obj = BpfObject.openResource("/bpf/tracer.bpf.o")) {
      assertThat(obj.isLoaded()).isFalse();
      Btf.Struct ctx = obj.btf().struct("trace_context").orElseThrow();
      assertThat(ctx.size()).isEqualTo(24);
      assertThat(ctx.members()).extracting(Btf.Member::name).containsExactly("trace_id", "span_id");
      assertThat(ctx.member("span_id").orElseThrow().offset()).isEqualTo(16);
    }
  }

  @Test
  void loadsTheTracerAndTheSampler() {
    for (String resource : new String[] {"/bpf/tracer.bpf.o", "/bpf/sampler.bpf.o"}) {
      try (BpfObject obj = BpfObject.openResource(resource)) {
        obj.load();
        MapInfo info = obj.map("traces_ctx_v1").info();
        assertThat(info.type()).isEqualTo(MapType.LRU_HASH);
        assertThat(info.keySize()).isEqualTo(8);
        assertThat(info.valueSize()).isEqualTo(24);
        assertThat(info.maxEntries()).isEqualTo(16384);
        assertThat(info.btfValueTypeId()).isPositive();
      }
    }
  }

  @Test
  void aRejectedProgramReportsTheVerifierLog() {
    try (BpfObject obj = BpfObject.openResource("/bpf/test_rejected.bpf.o")) {
      assertThatThrownBy(obj::load)
          .isInstanceOf(BpfLoadException.class)
          .hasMessageStartingWith("object test_rejected.bpf.o: load: EACCES (13)")
          .hasMessageContaining("libbpf: ")
          .hasMessageContaining("invalid mem access 'map_value_or_null'");
    }
  }

  @Test
  void closeIsIdempotentAndEndsUse() {
    BpfObject obj = BpfObject.openResource("/bpf/test_maps.bpf.o");
    obj.close();
    obj.close();
    assertThatThrownBy(() -> obj.map("plain")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  @Test
  void tracepointCountsExactlyTheTargetsCalls() throws Exception {
    try (BpfObject obj = BpfObject.openResource("/bpf/test_maps.bpf.o")) {
      obj.load();
      // The child makes exactly 7 getpid() calls after it says "ready" and gets a line.
      Process child =
          new ProcessBuilder(
                  "python3", "-c", "import os,sys; print('ready', flush=True); sys.stdin.readline(); "
                      + "[os.getpid() for _ in range(7)]; print('done', flush=True); sys.stdin.readline()")
              .start();
      try (BpfLink link = obj.program("count_getpid").attach();
          var out = child.inputReader();
          var in = child.outputWriter()) {
        assertThat(out.readLine()).isEqualTo("ready");
        obj.map("target").update(LittleEndian.u32(0), LittleEndian.u32((int) child.pid()));
        in.write("go\n");
        in.flush();
        assertThat(out.readLine()).isEqualTo("done");
        assertThat(obj.map("counters").sumPerCpu(0)).isEqualTo(7);
        assertThat(link.description()).isEqualTo("program count_getpid: attach");
      } finally {
        child.destroy();
      }
    }
  }
}
