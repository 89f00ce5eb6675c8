package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.bpf.testing.Wait;
import dev.braid.examples.Examples;
import dev.braid.examples.GoBuild;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host where Go processes come and go, under {@code braid run} tracing the whole host (no
 * --exe), as users run it: hundreds of processes of many binaries and Go releases, some exiting
 * mid-request, some killed mid-request, some exec'ing another Go program, and one binary braid
 * cannot read among them. Each process is traced within the scan's second, its requests' spans
 * name it, and whatever braid kept of it goes when it exits: map entries, state, probes (once no
 * process runs their binary), file descriptors, memory. {@code -Dbraid.churn.processes=1000} runs
 * longer.
 */
@Tag("kernel")
class HostChurnTest {
  private static final int PROCESSES = Integer.getInteger("braid.churn.processes", 300);
  /** Processes alive at once. */
  private static final int SLOTS = 12;
  private static final Pattern LISTENING = Pattern.compile("^listening on (\\S+)$");
  private static final Duration TRACED_WITHIN = Duration.ofSeconds(10);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** How a process ends. */
  enum Ending {
    STOPPED, EXITED_MID_REQUEST, KILLED_MID_REQUEST, EXECS_ANOTHER, UNREADABLE_BINARY
  }

  /** A request that braid must have exported a span of: its trace, the process and the service it must name. */
  record Expected(String traceId, int pid, String service) {}

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void processesComeAndGoAndLeaveNothingBehind(@TempDir Path dir) throws Exception {
    List<Path> goBinaries = goBinaries();
    Path execer = Examples.binary("execer");
    Path unreadable = unreadableCopy(Examples.binary("shop"), dir.resolve("shop-unreadable"));
    // Kept after the run, as other traced runs' files: target/groundtruth/host-churn/{out,braid.log}.
    Path out = Path.of("target", "groundtruth", "host-churn", "out");
    deleteTree(out.getParent());
    Files.createDirectories(out);
    try (PinRoot pins = PinRoot.create(); BraidProcess braid = BraidProcess.run(out, pins.path(), List.of())) {
      BraidProcess.Footprint idle = braid.footprint();
      List<Expected> expected = new CopyOnWriteArrayList<>();
      List<Integer> exited = new CopyOnWriteArrayList<>();
      List<Long> tracedAfterMillis = new CopyOnWriteArrayList<>();
      Map<Integer, Ending> endings = new ConcurrentHashMap<>();
      AtomicInteger started = new AtomicInteger();
      AtomicInteger finished = new AtomicInteger();
      BraidProcess.Footprint[] afterTen = new BraidProcess.Footprint[1];
      ExecutorService slots = Executors.newFixedThreadPool(SLOTS);
      List<Future<?>> lives = new ArrayList<>();
      for (int slot = 0; slot < SLOTS; slot++) {
        lives.add(slots.submit(() -> {
          for (int i; (i = started.getAndIncrement()) < PROCESSES; ) {
            Ending ending = Ending.values()[i % 10 < 6 ? 0 : i % 10 - 5];
            Path binary = switch (ending) {
              case STOPPED, KILLED_MID_REQUEST -> goBinaries.get(i % goBinaries.size());
              case EXITED_MID_REQUEST, EXECS_ANOTHER -> execer;
              case UNREADABLE_BINARY -> unreadable;
            };
            Path then = goBinaries.get((i / 10) % goBinaries.size());
            int pid = live(braid, binary, then, ending, expected, tracedAfterMillis);
            endings.put(pid, ending);
            exited.add(pid);
            if (finished.incrementAndGet() == 10) {
              afterTen[0] = braid.footprint();
            }
          }
          return null;
        }));
      }
      for (Future<?> life : lives) {
        life.get(15, TimeUnit.MINUTES);
      }
      slots.shutdown();

      // Once no process runs a binary for 10 s its probes go; by then every exited process is forgotten.
      waitFor("probes detached and processes forgotten", Duration.ofSeconds(120), () -> braid.metric("braid_probes_attached") == idle.probes() && braid.metric("braid_processes") == idle.processes());
      assertThat(exited).allSatisfy(pid -> assertThat(braid.entriesOf(pid)).as("entries of exited pid " + pid).isZero());
      BraidProcess.Footprint after = braid.footprint();
      Figures.record("processes started and stopped", exited.size(), "all traced but the unreadable binary's");
      record("before any process", idle);
      record("after 10 processes", afterTen[0]);
      record("after " + exited.size() + " processes", after);
      assertThat(after.probes()).as("probes attached once no process runs").isEqualTo(idle.probes());
      assertThat(after.binaries()).as("binaries probed once no process runs").isEqualTo(idle.binaries());
      // Each probe is a file (its link, its perf event): once they are detached, braid holds what it held before.
      Figures.atMost("open files more than before any process, once none runs", after.files() - idle.files(), 2);
      Figures.atMost("MiB of heap after GC more than after 10 processes", (after.heapBytes() - afterTen[0].heapBytes()) >> 20, 24);

      // Traced within the scan's second (and the binary's inspection, when it is new).
      List<Long> latencies = tracedAfterMillis.stream().sorted().toList();
      Figures.record("ms until a new process was traced, median", latencies.get(latencies.size() / 2), "scan every 1000 ms");
      Figures.atMost("ms until a new process was traced, max (a scan every 1000 ms, plus inspecting a new binary)", latencies.getLast(), 3000);

      braid.stop();
      Map<String, TraceFacts> spans = TraceFacts.read(out.resolve("traces.jsonl"));
      for (Expected e : expected) {
        assertThat(spans.get(e.traceId())).as("the span of trace " + e.traceId() + " (pid " + e.pid() + ", " + endings.get(e.pid()) + ")")
            .isEqualTo(new TraceFacts(e.pid(), e.service()));
      }
      Set<Integer> unreadablePids = endings.entrySet().stream().filter(en -> en.getValue() == Ending.UNREADABLE_BINARY).map(Map.Entry::getKey)
          .collect(java.util.stream.Collectors.toSet());
      assertThat(braid.tracedPids()).as("processes of the unreadable binary").doesNotContainAnyElementsOf(unreadablePids);
      assertThat(braid.tracedPids()).as("every other process").containsAll(endings.keySet().stream().filter(p -> !unreadablePids.contains(p)).toList());
      assertThat(braid.warningsAbout(unreadable.toString())).as("warnings about the unreadable binary").isEqualTo(1);
      assertThat(braid.errors()).as("errors braid logged").isEmpty();
    }
  }

  /** One process's life; returns its pid once it has exited. */
  private int live(BraidProcess braid, Path binary, Path then, Ending ending, List<Expected> expected, List<Long> tracedAfterMillis) throws Exception {
    List<String> command = new ArrayList<>(List.of(binary.toString(), "-addr", "127.0.0.1:0"));
    if (ending == Ending.EXECS_ANOTHER) {
      command.addAll(List.of("-then", then.toString(), "--", "-addr", "127.0.0.1:0")); // after --: the exec'd program's arguments
    }
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start(); // what it says before dying is in the failure
    int pid = (int) p.pid();
    long start = System.nanoTime();
    try (BufferedReader stdout = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String address = listening(stdout, binary);
      String service = binary.getFileName().toString();
      if (ending == Ending.UNREADABLE_BINARY) {
        // Looked at by the next scans, and left alone: its request goes unseen.
        get(address, "/search?ms=1", traceId());
        long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
        while (System.nanoTime() < until) {
          assertThat(braid.service(pid)).as("pid " + pid + " of the unreadable binary").isEmpty();
          Thread.sleep(50);
        }
        p.destroy();
        p.waitFor();
        return pid;
      }
      waitFor("pid " + pid + " traced as " + service, TRACED_WITHIN, () -> braid.service(pid).filter(service::equals).isPresent());
      tracedAfterMillis.add((System.nanoTime() - start) / 1_000_000);
      String trace = traceId();
      switch (ending) {
        case STOPPED -> {
          assertThat(get(address, "/search?ms=2", trace)).isEqualTo(200);
          expected.add(new Expected(trace, pid, service));
          p.destroy(); // SIGTERM
        }
        case EXITED_MID_REQUEST -> {
          assertThat(get(address, "/exit?ms=3", trace)).as("a request its process exits in").isEqualTo(-1);
          expected.add(new Expected(trace, pid, service));
        }
        case KILLED_MID_REQUEST -> {
          var held = http.sendAsync(request(address, "/hold?key=churn", trace), HttpResponse.BodyHandlers.discarding());
          waitFor("an entry of pid " + pid + " while its request runs", Duration.ofSeconds(10), () -> braid.entriesOf(pid) > 0);
          p.destroyForcibly(); // SIGKILL
          assertThat(held).failsWithin(Duration.ofSeconds(10));
          expected.add(new Expected(trace, pid, service));
        }
        case EXECS_ANOTHER -> {
          assertThat(get(address, "/exec", trace)).isEqualTo(200);
          expected.add(new Expected(trace, pid, service));
          String next = listening(stdout, then);
          String thenService = then.getFileName().toString();
          // The same pid, now running another binary: traced as that one at the next scan.
          waitFor("pid " + pid + " traced as " + thenService + " after its exec", TRACED_WITHIN, () -> braid.service(pid).filter(thenService::equals).isPresent());
          String trace2 = traceId();
          assertThat(get(next, "/search?ms=2", trace2)).isEqualTo(200);
          expected.add(new Expected(trace2, pid, thenService));
          p.destroy();
        }
        case UNREADABLE_BINARY -> throw new AssertionError("handled above");
      }
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
      }
    } finally {
      p.destroyForcibly();
    }
    // Spec 3.5 (braid's profile): no entry and no state within 2 s of the exit.
    waitFor("pid " + pid + " forgotten after its exit", Duration.ofSeconds(10), () -> braid.entriesOf(pid) == 0 && braid.service(pid).isEmpty());
    return pid;
  }

  private static String listening(BufferedReader stdout, Path binary) throws IOException {
    List<String> said = new ArrayList<>();
    for (String line; (line = stdout.readLine()) != null; ) {
      Matcher m = LISTENING.matcher(line);
      if (m.matches()) {
        return m.group(1);
      }
      said.add(line);
    }
    throw new AssertionError(binary + " ended without listening; it said: " + String.join("\n", said.subList(0, Math.min(40, said.size()))));
  }

  private HttpRequest request(String address, String path, String traceId) {
    return HttpRequest.newBuilder(URI.create("http://" + address + path)).timeout(Duration.ofSeconds(30))
        .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01").build();
  }

  /** The request's status, or -1 when the connection ended without an answer. */
  private int get(String address, String path, String traceId) throws InterruptedException {
    try {
      return http.send(request(address, path, traceId), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  /** A random W3C trace id, never all zero. */
  static String traceId() {
    byte[] id = new byte[16];
    ThreadLocalRandom.current().nextBytes(id);
    id[0] |= 1;
    return HexFormat.of().formatHex(id);
  }

  /**
   * examples/shop of every other Go release braid covers (the oldest and the newest among them),
   * with DWARF and as a stripped PIE in turn: a binary more is ~25 probes more to attach and
   * detach (~0.1 s each), not more coverage; GoReleasesTest covers every release.
   */
  private static List<Path> goBinaries() {
    List<Path> out = new ArrayList<>();
    List<GoRelease> releases = GoBuilds.covered();
    for (int i = 0; i < releases.size(); i += 2) {
      out.add(GoBuilds.binary("shop", releases.get(i), out.size() % 2 == 0 ? GoBuild.DEFAULT : GoBuild.STRIPPED_PIE_PURE));
    }
    return out;
  }

  /**
   * A copy of a Go binary that runs as well as the original (the kernel loads it by its program
   * headers) but whose section header table lies past the end of the file: braid cannot read it.
   */
  private static Path unreadableCopy(Path binary, Path copy) throws IOException {
    Files.copy(binary, copy);
    try (RandomAccessFile f = new RandomAccessFile(copy.toFile(), "rw")) {
      f.seek(40); // e_shoff
      f.write(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(f.length() + 4096).array());
    }
    copy.toFile().setExecutable(true);
    return copy;
  }

  private static void record(String when, BraidProcess.Footprint f) {
    Figures.record("open files " + when, f.files(), "braid run, whole host");
    Figures.record("probes attached " + when, f.probes(), "");
    Figures.record("MiB RSS " + when, f.rssBytes() >> 20, "");
    Figures.record("MiB heap after GC " + when, f.heapBytes() >> 20, "");
  }

  private static void deleteTree(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (var walk = Files.walk(dir)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  private static void waitFor(String what, Duration limit, BooleanSupplier condition) {
    if (!Wait.until(limit, Duration.ofMillis(10), condition)) {
      throw new AssertionError(what + ": not within " + limit);
    }
  }

  /** The trace of one request as braid exported it: which process its server span names. */
  record TraceFacts(int pid, String service) {
    /** traces.jsonl's spans by trace: the pid and service.name of their resource. */
    static Map<String, TraceFacts> read(Path traces) {
      Map<String, TraceFacts> out = new java.util.HashMap<>();
      for (JsonNode request : JsonLines.read(traces)) {
        for (JsonNode resourceSpans : request.path("resourceSpans")) {
          Map<String, JsonNode> resource = new java.util.HashMap<>();
          resourceSpans.path("resource").path("attributes").forEach(a -> resource.put(a.path("key").asText(), a.path("value")));
          TraceFacts facts = new TraceFacts(resource.get("process.pid").path("intValue").asInt(), resource.get("service.name").path("stringValue").asText());
          for (JsonNode scope : resourceSpans.path("scopeSpans")) {
            scope.path("spans").forEach(span -> out.putIfAbsent(span.path("traceId").asText(), facts));
          }
        }
      }
      return out;
    }
  }
}
