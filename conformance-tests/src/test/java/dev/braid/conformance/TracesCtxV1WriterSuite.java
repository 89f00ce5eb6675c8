package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.BpfMap;
import dev.braid.bpf.BpfObject;
import dev.braid.bpf.TracesContextMap;
import dev.braid.bpf.testing.Commands;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The contract of spec/traces_ctx_v1.md, checked against any writer. A subject supplies only how
 * to start its writer for the processes of one Go executable; every check names its clause.
 * Reads go through real peers where they exist (bpftool).
 */
@Tag("kernel")
public abstract class TracesCtxV1WriterSuite {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  private static final String PARENT_ID = "b7ad6b7169203331";

  private final HttpClient http = HttpClient.newHttpClient();
  protected PinRoot pins;
  protected ExampleService shop;

  /**
   * Starts the writer so that it writes traces_ctx_v1 under {@code pinRoot} for the processes
   * of {@code executable}, and returns once it is ready.
   *
   * @throws WriterUnderTest.Refused when the writer will not start
   */
  protected abstract WriterUnderTest start(Path pinRoot, Path executable) throws Exception;

  @BeforeEach
  void workload() {
    Kernel.requireBpf();
    pins = PinRoot.create();
    shop = ExampleService.start(Examples.binary("shop"), "-addr", "127.0.0.1:0", "-spinners", "1");
  }

  @AfterEach
  void cleanUp() {
    if (shop != null) {
      shop.close();
    }
    if (pins != null) {
      pins.close();
    }
  }

  @Test
  void clause1_1And1_2_thePinIsUnderOtelInADirectoryOfMode01700() throws Exception {
    try (WriterUnderTest w = start(pins.path(), Examples.binary("shop"))) {
      Path pin = pins.path().resolve("otel/traces_ctx_v1");
      assertThat(pin).exists();
      assertThat(Files.getAttribute(pin.getParent(), "unix:mode")).isEqualTo(041700);
    }
  }

  @Test
  void clause1_3_bpftoolReportsTheShape() throws Exception {
    try (WriterUnderTest w = start(pins.path(), Examples.binary("shop"))) {
      JsonNode map = JSON.readTree(Commands.run(List.of("bpftool", "-j", "map", "show", "pinned", pin().toString())));
      assertThat(map.get("type").asText()).isEqualTo("lru_hash");
      assertThat(map.get("bytes_key").asInt()).isEqualTo(8);
      assertThat(map.get("bytes_value").asInt()).isEqualTo(24);
      assertThat(map.get("max_entries").asInt()).isEqualTo(16384);
      assertThat(map.get("flags").asInt()).isZero();
      assertThat(map.get("btf_id").asInt()).as("the map carries BTF").isPositive();
    }
  }

  @Test
  void clause1_4And1_5_anEntryIsTheThreadsTraceInW3cOrder() throws Exception {
    try (WriterUnderTest w = start(pins.path(), Examples.binary("shop"))) {
      CompletableFuture<HttpResponse<String>> slow = slowRequest();
      JsonNode entry = null;
      for (int i = 0; i < 200 && entry == null && !slow.isDone(); i++) {
        for (JsonNode e : JSON.readTree(Commands.run(List.of("bpftool", "-j", "map", "dump", "pinned", pin().toString())))) {
          if (bytes(e.get("formatted").get("value").get("trace_id")).equals(TRACE_ID)) {
            entry = e;
          }
        }
      }
      assertThat(entry).as("an entry with the request's trace id while the request runs").isNotNull();
      // bpftool formats the value through the map's BTF: the field names are the contract's.
      assertThat(entry.get("formatted").get("value").fieldNames()).toIterable().containsExactly("trace_id", "span_id");
      assertThat(bytes(entry.get("formatted").get("value").get("span_id"))).hasSize(16).isNotEqualTo("0000000000000000");
      long key = entry.get("formatted").get("key").asLong();
      assertThat(key >>> 32).as("the key's tgid").isEqualTo(shop.pid());
      assertThat(Files.exists(Path.of("/proc", Integer.toString(shop.pid()), "task", Long.toString(key & 0xffffffffL))))
          .as("the key's tid is a thread of the service")
          .isTrue();
      assertThat(slow.get().statusCode()).isEqualTo(200);
    }
  }

  @Test
  void clause3_4_theEntryIsGoneOnceTheRequestEnded() throws Exception {
    try (WriterUnderTest w = start(pins.path(), Examples.binary("shop"))) {
      assertThat(slowRequest().get().statusCode()).isEqualTo(200);
      assertThat(contextsOf(shop.pid())).noneMatch(c -> c.startsWith(TRACE_ID));
    }
  }

  @Test
  void clause3_5_aStoppedWriterLeavesNoEntryOfTheProcessButThePin() throws Exception {
    CompletableFuture<HttpResponse<String>> slow;
    try (WriterUnderTest w = start(pins.path(), Examples.binary("shop"))) {
      slow = slowRequest();
      for (int i = 0; i < 100 && contextsOf(shop.pid()).isEmpty(); i++) {
        Thread.sleep(5);
      }
      assertThat(contextsOf(shop.pid())).as("the request in flight shows").isNotEmpty(); // stop mid-request
    }
    assertThat(pin()).exists();
    assertThat(contextsOf(shop.pid())).isEmpty();
    assertThat(slow.get().statusCode()).isEqualTo(200);
  }

  @Test
  void clause2_2_anIncompatiblePinIsRefusedAndLeftUntouched() throws Exception {
    try (BpfObject foreign = BpfObject.openResource("/bpf/test_foreign_pin.bpf.o")) {
      foreign.load();
      Files.createDirectory(pin().getParent());
      foreign.map("traces_ctx_v1").pin(pin());
      int id = foreign.map("traces_ctx_v1").info().id();
      assertThatThrownBy(() -> start(pins.path(), Examples.binary("shop")).close())
          .isInstanceOf(WriterUnderTest.Refused.class)
          .hasMessageContaining("value size");
      try (BpfMap still = BpfMap.openPinned(pin()).orElseThrow()) {
        assertThat(still.info().id()).isEqualTo(id);
      }
    }
  }

  private Path pin() {
    return TracesContextMap.pinPath(pins.path());
  }

  private CompletableFuture<HttpResponse<String>> slowRequest() {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(shop.url() + "/checkout?ms=500")).header("traceparent", "00-" + TRACE_ID + "-" + PARENT_ID + "-01").build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
  }

  /** The entries (trace id + span id, hex) of a process, read with bpftool. */
  private List<String> contextsOf(int pid) throws Exception {
    List<String> found = new ArrayList<>();
    for (JsonNode e : JSON.readTree(Commands.run(List.of("bpftool", "-j", "map", "dump", "pinned", pin().toString())))) {
      if (e.get("formatted").get("key").asLong() >>> 32 == pid) {
        found.add(bytes(e.get("formatted").get("value").get("trace_id")) + bytes(e.get("formatted").get("value").get("span_id")));
      }
    }
    return found;
  }

  private static String bytes(JsonNode array) {
    byte[] b = new byte[array.size()];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) array.get(i).asInt();
    }
    return HexFormat.of().formatHex(b);
  }
}
