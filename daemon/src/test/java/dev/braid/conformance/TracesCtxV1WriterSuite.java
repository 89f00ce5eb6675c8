package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A writer of traces_ctx_v1 judged by {@code ./braid conformance} ({@link ConformanceSuite}), and
 * read by a peer that shares no code with braid: bpftool, which formats the pin through its BTF.
 * A subject supplies only the command that starts its writer ({@code {exe}}, {@code {pin-path}},
 * {@code {otlp-endpoint}} are replaced).
 */
@Tag("kernel")
public abstract class TracesCtxV1WriterSuite {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
  private static final String PARENT_ID = "b7ad6b7169203331";
  private static final String IN_REQUESTS = "every sample inside a handler shows its request's exported span";

  private final HttpClient http = HttpClient.newHttpClient();

  /** The writer under test, as {@code ./braid conformance --writer-cmd} takes it. */
  protected abstract String writerCommand();

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void everyCheckOfTheConformanceSuitePasses() throws Exception {
    Report r;
    try (PinRoot pins = PinRoot.create()) {
      r = new ConformanceSuite(Examples.binary("shop"), pins.path(), writerCommand())
          .withGrpc(Examples.binary("grpcshop"), Examples.binary("grpcload")).run();
    }
    System.out.print(r.text()); // the figures, in the build's log
    assertThat(r.checks()).filteredOn(c -> !c.passed()).as(r.text()).isEmpty();
    assertThat(r.conformant()).isTrue();
    assertThat(r.profilePassed()).as("braid's writer keeps braid's profile too").isTrue();
    assertThat(r.checks()).extracting(CheckResult::clause).contains("1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.4", "2.5", "3.1", "3.3", "3.4", "3.5", "3.6");
    // The audit judged thousands of samples inside handlers, of HTTP requests and of gRPC calls, and found every one right.
    assertThat(r.checks()).filteredOn(c -> c.check().startsWith("every sample")).extracting(CheckResult::check)
        .containsExactly(IN_REQUESTS, IN_REQUESTS + " (gRPC)");
    assertThat(r.checks()).filteredOn(c -> c.check().startsWith("every sample"))
        .allSatisfy(c -> assertThat(c.figure()).matches("inside handlers: [0-9]{4,} right, 0 wrong, 0 stale, 0 missing;.*"));
  }

  @Test
  void bpftoolReadsTheShapeAndARunningRequestsEntryThroughTheBtf() throws Exception {
    try (PinRoot pins = PinRoot.create();
        OtlpReceiver receiver = OtlpReceiver.start();
        ExampleService shop = ExampleService.start(Examples.binary("shop"), "-addr", "127.0.0.1:0");
        WriterProcess writer = WriterProcess.start(writerCommand(), Examples.binary("shop"), pins.path(), receiver)) {
      Path pin = TracesContextMap.pinPath(pins.path());
      Optional<JsonNode> entry = entryWhileARequestRuns(shop, pin, writer);
      assertThat(entry).as("an entry with the request's trace id while it runs; the writer said:\n%s", writer.tail()).isPresent();

      JsonNode map = JSON.readTree(Commands.run(java.util.List.of("bpftool", "-j", "map", "show", "pinned", pin.toString())));
      assertThat(map.get("type").asText()).isEqualTo("lru_hash");
      assertThat(map.get("bytes_key").asInt()).isEqualTo(8);
      assertThat(map.get("bytes_value").asInt()).isEqualTo(24);
      assertThat(map.get("max_entries").asInt()).isEqualTo(16384);
      assertThat(map.get("flags").asInt()).isZero();

      // bpftool formats the value through the map's BTF: the field names are the contract's.
      JsonNode value = entry.get().get("formatted").get("value");
      assertThat(value.fieldNames()).toIterable().containsExactly("trace_id", "span_id");
      assertThat(bytes(value.get("span_id"))).hasSize(16).isNotEqualTo("0000000000000000");
      long key = entry.get().get("formatted").get("key").asLong();
      assertThat(key >>> 32).as("the key's tgid").isEqualTo(shop.pid());
      assertThat(Path.of("/proc", Integer.toString(shop.pid()), "task", Long.toString(key & 0xffffffffL))).as("the key's tid is a thread of the service").exists();
    }
  }

  /** Sends 500 ms requests until bpftool shows an entry with their trace id (the writer may still be starting). */
  private Optional<JsonNode> entryWhileARequestRuns(ExampleService shop, Path pin, WriterProcess writer) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline && writer.alive()) {
      HttpRequest req = HttpRequest.newBuilder(URI.create(shop.url() + "/checkout?ms=500"))
          .header("traceparent", "00-" + TRACE_ID + "-" + PARENT_ID + "-01").build();
      CompletableFuture<HttpResponse<String>> slow = http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
      while (!slow.isDone()) {
        if (Files.exists(pin)) {
          for (JsonNode e : JSON.readTree(Commands.run(java.util.List.of("bpftool", "-j", "map", "dump", "pinned", pin.toString())))) {
            if (bytes(e.get("formatted").get("value").get("trace_id")).equals(TRACE_ID)) {
              slow.join();
              return Optional.of(e);
            }
          }
        }
        Thread.sleep(20);
      }
    }
    return Optional.empty();
  }

  private static String bytes(JsonNode array) {
    byte[] b = new byte[array.size()];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) array.get(i).asInt();
    }
    return HexFormat.of().formatHex(b);
  }
}
