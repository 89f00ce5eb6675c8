package dev.braid.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.braid.bpf.testing.Kernel;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("kernel")
class UprobeTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private void checkout(ExampleService shop) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(shop.url() + "/checkout?ms=1")).build();
    assertThat(http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
  }

  @Test
  void aSymbolProbeInOneProcessCountsOnlyThatProcess() throws Exception {
    Kernel.requireBpf();
    Path binary = Examples.binary("shop");
    try (BpfObject obj = BpfObject.openResource("/bpf/test_maps.bpf.o");
        ExampleService watched = ExampleService.start(binary, "-addr", "127.0.0.1:0");
        ExampleService other = ExampleService.start(binary, "-addr", "127.0.0.1:0")) {
      obj.load();
      try (BpfLink link = obj.program("count_calls").attachUprobe(binary, "main.priceCart", 0, watched.pid(), 1)) {
        for (int i = 0; i < 3; i++) {
          checkout(other);
        }
        assertThat(obj.map("counters").sumPerCpu(1)).as("calls in the other process").isZero();
        for (int i = 0; i < 3; i++) {
          checkout(watched);
        }
        // At least once per call; a Go function restarts (and hits again) when its stack grows.
        assertThat(obj.map("counters").sumPerCpu(1)).isBetween(3L, 6L);
        assertThat(link.description()).endsWith("shop:main.priceCart+0x0");
      }
    }
  }

  @Test
  void anUnknownSymbolIsAnAttachErrorNamingIt() {
    Kernel.requireBpf();
    try (BpfObject obj = BpfObject.openResource("/bpf/test_maps.bpf.o")) {
      obj.load();
      assertThatThrownBy(() -> obj.program("count_calls").attachUprobe(Examples.binary("shop"), "main.noSuchFunction", 0, BpfProgram.ALL_PROCESSES, 0))
          .isInstanceOf(BpfAttachException.class)
          .hasMessageContaining("main.noSuchFunction")
          .hasMessageContaining("ENOENT");
    }
  }
}
