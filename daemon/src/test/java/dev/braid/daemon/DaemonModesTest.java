package dev.braid.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.testing.Commands;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.bpf.testing.Wait;
import dev.braid.correlator.Batch;
import dev.braid.correlator.ProfiledSample;
import dev.braid.daemon.groundtruth.Attribution;
import dev.braid.daemon.groundtruth.Goal;
import dev.braid.daemon.groundtruth.TracedRun;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** braid as only a reader or only a writer of traces_ctx_v1, next to someone else's other half. */
@Tag("kernel")
class DaemonModesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path out;

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  /**
   * The test is the writer: it pins traces_ctx_v1 with bpftool and writes, with bpftool, one
   * entry per thread of a busy Go process (examples/pinned: workers locked to threads they
   * announce). Every sample braid takes of a thread must carry exactly that thread's entry; braid
   * must leave the writer's entries and pin alone.
   */
  @Test
  void aReaderStampsEachSampleWithTheEntryAnotherWriterWroteForItsThread() throws Exception {
    try (PinRoot pins = PinRoot.create();
        ExampleService busy = ExampleService.startUntil(Examples.binary("pinned"), "ready")) {
      Path pin = pins.path().resolve("otel").resolve("traces_ctx_v1");
      Files.createDirectories(pin.getParent(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Commands.run(List.of("bpftool", "map", "create", pin.toString(), "type", "lru_hash", "key", "8", "value", "24", "entries", "16384", "name", "traces_ctx_v1"));
      // Every thread the process has once its workers are running (threads the runtime starts later have none).
      Map<Integer, TraceContext> written = new HashMap<>();
      for (int tid : threads(busy.pid())) {
        TraceContext ctx = contextOf(tid);
        written.put(tid, ctx);
        List<String> update = new ArrayList<>(List.of("bpftool", "map", "update", "pinned", pin.toString(), "key", "hex"));
        update.addAll(hex(key(busy.pid(), tid)));
        update.addAll(List.of("value", "hex"));
        update.addAll(hex(value(ctx)));
        Commands.run(update);
      }

      List<Batch> batches = new CopyOnWriteArrayList<>();
      DaemonConfig config =
          DaemonConfig.builder(out, pins.path()).mode(DaemonConfig.Mode.READER).pids(Set.of(busy.pid())).sampleHz(499).flushInterval(Duration.ofSeconds(1)).build();
      try (Daemon daemon = Daemon.start(config, batches::add)) {
        assertThat(Wait.until(Duration.ofMinutes(1), Duration.ofMillis(100), () -> samplesOf(batches).stream().filter(s -> written.containsKey(s.tid())).count() >= 400))
            .as("400 samples of threads with an entry, within a minute").isTrue();
      }
      List<ProfiledSample> samples = samplesOf(batches);
      Figures.atLeast("samples of threads with an entry", samples.stream().filter(s -> written.containsKey(s.tid())).count(), 400);
      assertThat(samples).allSatisfy(s -> assertThat(s.process().pid()).isEqualTo(busy.pid()));
      for (ProfiledSample s : samples) {
        TraceContext expected = written.get(s.tid());
        if (expected == null) {
          assertThat(s.context()).as("thread %d, which has no entry", s.tid()).isEmpty();
        } else {
          assertThat(s.context()).as("thread %d", s.tid()).contains(expected);
          assertThat(s.span()).isEmpty(); // braid never saw that writer's spans
        }
      }

      // The writer's pin and entries are as it left them.
      String dump = Commands.run(List.of("bpftool", "-j", "map", "dump", "pinned", pin.toString()));
      assertThat(JSON.readTree(dump)).hasSize(written.size());
      // Reader mode writes profiles, no traces; the links are the writer's contexts.
      assertThat(out.resolve("traces.jsonl")).doesNotExist();
      String profiles = Files.readString(out.resolve("profiles.jsonl"));
      for (TraceContext ctx : Set.copyOf(samples.stream().filter(s -> s.context().isPresent()).map(s -> s.context().get()).toList())) {
        assertThat(profiles).contains("\"traceId\":\"" + ctx.traceId() + "\",\"spanId\":\"" + ctx.spanId() + "\"");
      }
    }
  }

  private static List<ProfiledSample> samplesOf(List<Batch> batches) {
    return batches.stream().flatMap(b -> b.samples().stream()).toList();
  }

  /**
   * Writer mode keeps traces_ctx_v1 and exports spans, and samples nothing: no perf events, no
   * profiles. The test reads the map itself (bpftool) while the load runs: what it finds names
   * spans that braid exported.
   */
  @Test
  void aWriterKeepsTheMapForAnotherProfilerAndSamplesNothing() throws Exception {
    List<JsonNode> entries = new CopyOnWriteArrayList<>();
    AtomicBoolean dumped = new AtomicBoolean();
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(Examples.binary("shop"))),
            // The load goes on until the test has read entries of 10 spans from the map (at most a minute).
            new TracedRun.Load("shop", "/checkout?ms=20", Duration.ofSeconds(3), 2).until(new Goal("entries of 10 spans read", progress -> dumped.get())),
            c -> c.withMode(DaemonConfig.Mode.WRITER),
            daemon -> {
              Path pin = pinOfTheRun();
              Wait.until(Duration.ofMinutes(1), Duration.ofMillis(100), () -> {
                for (JsonNode entry : readJson(Commands.run(List.of("bpftool", "-j", "map", "dump", "pinned", pin.toString())))) {
                  // An entry the writer deleted between bpftool's walk of the keys and its lookup has an error for a value.
                  if (!entry.path("value").has("error")) {
                    entries.add(entry);
                  }
                }
                return entries.stream().map(DaemonModesTest::spanIdOf).distinct().count() >= 10;
              });
              dumped.set(true);
            });
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    assertThat(run.samples()).isEmpty();
    assertThat(run.outputDir().resolve("profiles.jsonl")).doesNotExist();
    assertThat(run.outputDir().resolve("pprof")).doesNotExist();
    Set<String> exported = Set.copyOf(run.spans().stream().map(s -> s.context().spanId()).toList());
    List<String> seen = entries.stream().map(DaemonModesTest::spanIdOf).toList();
    Figures.atLeast("spans in the entries another profiler read", seen.stream().distinct().count(), 10);
    assertThat(exported).containsAll(seen);
  }

  private static JsonNode readJson(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new AssertionError("bpftool printed no JSON: " + text, e);
    }
  }

  /** The only bpffs directory of a running test with a pin: the one TracedRun made. */
  private static Path pinOfTheRun() {
    try (Stream<Path> dirs = Files.list(Path.of("/sys/fs/bpf"))) {
      return dirs.filter(d -> d.getFileName().toString().startsWith("braid-test-"))
          .map(d -> d.resolve("otel").resolve("traces_ctx_v1"))
          .filter(Files::exists)
          .findFirst()
          .orElseThrow();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** bpftool -j dumps a value as a list of hex bytes (or, with BTF, as named fields). */
  private static String spanIdOf(JsonNode entry) {
    JsonNode value = entry.has("formatted") ? entry.get("formatted").get("value") : entry.get("value");
    if (value.has("span_id")) {
      StringBuilder hex = new StringBuilder();
      for (JsonNode b : value.get("span_id")) {
        hex.append(String.format("%02x", b.asInt()));
      }
      return hex.toString();
    }
    StringBuilder hex = new StringBuilder();
    for (int i = 16; i < 24; i++) {
      hex.append(value.get(i).asText().substring(2));
    }
    return hex.toString();
  }

  private static List<Integer> threads(long pid) throws IOException {
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return tasks.map(t -> Integer.parseInt(t.getFileName().toString())).toList();
    }
  }

  private static TraceContext contextOf(int tid) {
    return new TraceContext(String.format("%016x%016x", 0xb4a1d000L, tid), String.format("%016x", 0x5000_0000L + tid));
  }

  private static byte[] key(long pid, int tid) {
    long v = (pid << 32) | tid;
    byte[] k = new byte[8];
    for (int i = 0; i < 8; i++) {
      k[i] = (byte) (v >>> (8 * i));
    }
    return k;
  }

  /** The contract's value: trace id then span id, W3C byte order. */
  private static byte[] value(TraceContext ctx) {
    return HexFormat.of().parseHex(ctx.traceId() + ctx.spanId());
  }

  /** bpftool's "hex" form: one argument per byte. */
  private static List<String> hex(byte[] bytes) {
    List<String> args = new ArrayList<>();
    for (byte b : bytes) {
      args.add(String.format("%02x", b));
    }
    return args;
  }
}
