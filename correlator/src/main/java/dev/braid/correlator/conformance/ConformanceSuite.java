package dev.braid.correlator.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.MapInfo;
import dev.braid.bpf.MonotonicClock;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.TracesContextMap;
import dev.braid.correlator.GoroutineLocators;
import dev.braid.examples.ExampleService;
import dev.braid.tracer.GoProgram;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * Judges a writer of traces_ctx_v1 against spec/traces_ctx_v1.md with a ground-truth Go service
 * (examples/shop): requests with known traceparents, read back from the pin while they run, after
 * they end, after a process dies mid-request and after the writer stops. Every check names its
 * clause. The writer is one the suite starts ({@link WriterProcess}) for the service's executable.
 */
public final class ConformanceSuite {
  /** How long a writer may take to pin the map and show a request's context. */
  static final Duration READY = Duration.ofSeconds(60);
  /** 3.5: entries of a process are gone this soon after it exits. */
  static final Duration CLEANUP = Duration.ofSeconds(2);
  /** How long the suite watches that something stays gone. */
  static final Duration WATCH = Duration.ofMillis(300);
  /** The exactness audit: how long its load runs, how often it samples each CPU, how many clients send requests. */
  static final Duration AUDIT = Duration.ofSeconds(5);
  static final long AUDIT_HZ = 10_000;
  static final int AUDIT_CLIENTS = 4;
  /** 2.2: how soon a writer that meets an incompatible pin stops. */
  static final Duration INCOMPATIBLE_STOP = Duration.ofSeconds(20);
  /** How long the writer may take to export the spans of the audited requests. */
  static final Duration EXPORT_WAIT = Duration.ofSeconds(30);
  /** Below this many samples inside requests, the audit has seen too little to judge. */
  static final long AUDIT_MIN_SAMPLES = 1000;
  /** The audit's routes: CPU, blocking on a channel, a sleep, a raw syscall, a socket, a locked thread. */
  private static final List<String> AUDIT_ROUTES = List.of("/checkout?ms=3", "/search?ms=2", "/wait/chan?ms=1", "/wait/sleep?ms=1",
      "/wait/syscall?ms=1", "/wait/socket?ms=1", "/locked?ms=2", "/hello", "/api/cart?items=60");
  private static final String PARENT_ID = "b7ad6b7169203331";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path workload;
  private final Path pinRoot;
  private final String writerCommand;
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<CheckResult> results = new ArrayList<>();

  /**
   * @param workload the Go service to run under the writer (examples/shop)
   * @param pinRoot the bpffs directory the writer pins under
   * @param writerCommand how to start the writer ({@code {exe}}, {@code {pin-path}} are replaced)
   */
  public ConformanceSuite(Path workload, Path pinRoot, String writerCommand) {
    this.workload = workload;
    this.pinRoot = pinRoot;
    this.writerCommand = writerCommand;
  }

  /** Runs every check; a writer that never gets ready fails the first and ends the run. */
  public Report run() throws IOException, InterruptedException {
    try (OtlpReceiver receiver = OtlpReceiver.start();
        ExampleService shop = ExampleService.start(workload, "-addr", "127.0.0.1:0");
        WriterProcess writer = WriterProcess.start(writerCommand, workload, pinRoot, receiver.endpoint())) {
      if (!poll(READY, () -> Files.exists(pin()) || !writer.alive()) || !Files.exists(pin())) { // it died, or never pinned
        results.add(CheckResult.fail("1.1", "pinned at PIN/otel/traces_ctx_v1", "nothing pinned within " + READY.toSeconds() + " s; the writer said:\n" + writer.tail()));
        return new Report(writerCommand, results);
      }
      try (BpfMap map = BpfMap.openPinned(pin()).orElseThrow(() -> new IOException(pin() + " vanished"))) {
        if (pinChecks(map)) { // else its entries cannot be read as the contract's
          requestChecks(map, shop, writer, receiver);
        }
      }
      results.add(incompatiblePin(receiver));
    }
    return new Report(writerCommand, results);
  }

  /** 3.x, 1.4, 1.5: the entries of requests that run and end, of a process that dies, of a writer that stops. */
  private void requestChecks(BpfMap map, ExampleService shop, WriterProcess writer, OtlpReceiver receiver) throws InterruptedException, IOException {
    // Until the writer is ready, requests come and go unseen: send them until one shows.
    Optional<Seen> first = firstRequestSeen(map, shop, writer);
    Optional<Entry> seen = first.map(Seen::entry);
    results.add(CheckResult.of("3.1", "a running request's thread shows its trace (1.5: W3C bytes)", seen.isPresent(),
        seen.map(e -> e.context().traceId() + "-" + e.context().spanId())
            .orElse("no entry with the request's trace id within " + READY.toSeconds() + " s; the writer said:\n" + writer.tail())));
    if (seen.isEmpty()) {
      return;
    }
    entryChecks(shop, seen.get());
    first.get().response().join();
    results.add(afterTheRequest(map, shop.pid(), first.get().trace()));
    audit(map, writer, receiver);
    secondWriter(map, shop, writer, receiver);
    results.add(processExitCleanup(map));
    Stopped stopped = stop(map, writer, shop.pid());
    results.add(CheckResult.of("3.5", "a stopped writer leaves no entry of the process",
        stopped.entriesLeft() == 0, stopped.entriesLeft() + " entries left" + (stopped.inTime() ? "" : "; it did not stop within 30 s of SIGTERM")));
    results.add(CheckResult.of("2.4", "the pin outlives the writer", Files.exists(pin()), Files.exists(pin()) ? "still pinned" : "the pin is gone"));
  }

  /** A thread's entry as the pin holds it. */
  private record Entry(long key, TraceContext context) {}

  private record Stopped(boolean inTime, long entriesLeft) {}

  /** A request whose entry the pin showed while it ran. */
  private record Seen(String trace, Entry entry, CompletableFuture<HttpResponse<String>> response) {}

  private Path pin() {
    return TracesContextMap.pinPath(pinRoot);
  }

  /** 1.1–1.3 and 2.5: where the pin is, its directory, its mode and its shape; false when the shape is not the contract's. */
  private boolean pinChecks(BpfMap map) throws IOException {
    results.add(CheckResult.of("1.1", "pinned at PIN/otel/traces_ctx_v1", Files.exists(pin()), pin().toString()));
    int dirMode = (int) Files.getAttribute(pin().getParent(), "unix:mode") & 07777;
    results.add(CheckResult.of("1.2", "its directory has mode 01700", dirMode == TracesContextMap.DIRECTORY_MODE, String.format("%04o", dirMode)));
    MapInfo info = map.info();
    List<String> differences = TracesContextMap.differences(info);
    results.add(CheckResult.of("1.3", "LRU hash, 16384 entries, key 8, value 24, flags 0",
        differences.isEmpty(), differences.isEmpty() ? info.typeName() + " " + info.maxEntries() + " x " + info.keySize() + "+" + info.valueSize() : String.join(", ", differences)));
    results.add(CheckResult.of("1.3", "key and value have BTF", info.btfId() > 0 && info.btfValueTypeId() > 0,
        "btf id " + info.btfId() + ", value type " + info.btfValueTypeId()));
    int pinMode = (int) Files.getAttribute(pin(), "unix:mode") & 07777;
    results.add(CheckResult.of("2.5", "the pin has mode 0600", pinMode == 0600, String.format("%04o", pinMode)));
    return differences.isEmpty();
  }

  /** 1.4 and 1.5: the entry of a running request, keyed by its thread, in W3C byte order. */
  private void entryChecks(ExampleService shop, Entry e) {
    long tgid = e.key() >>> 32;
    long tid = e.key() & 0xffffffffL;
    boolean thread = tgid == shop.pid() && Files.exists(Path.of("/proc", Long.toString(tgid), "task", Long.toString(tid)));
    results.add(CheckResult.of("1.4", "the key is the thread's tgid << 32 | tid", thread, "tgid " + tgid + ", tid " + tid));
    results.add(CheckResult.of("3.6", "the span id is not zero", e.context().span() != 0, e.context().spanId()));
  }

  /** 3.4: once the request ended, no entry shows its trace, for as long as the suite watches. */
  private CheckResult afterTheRequest(BpfMap map, int pid, String trace) throws InterruptedException {
    long seen = mostSeenWithin(WATCH, () -> entriesOf(map, pid).stream().filter(e -> e.context().traceId().equals(trace)).count());
    return CheckResult.of("3.4", "no entry shows a request that ended", seen == 0,
        seen + " entries of the ended request within " + WATCH.toMillis() + " ms of its end");
  }

  /**
   * 3.1–3.4 at every instant: a service with a busy goroutine that serves no request takes
   * requests of every kind from several clients while {@link ContextAuditor} samples each CPU at
   * {@link #AUDIT_HZ}; each sample's entry is judged against the service's truth log and the spans
   * the writer exported ({@link ExactnessAudit}).
   */
  private void audit(BpfMap map, WriterProcess writer, OtlpReceiver receiver) throws InterruptedException, IOException {
    Path truth = Files.createTempFile("braid-conformance-truth", ".log");
    try (ExampleService service = ExampleService.start(workload, "-addr", "127.0.0.1:0", "-spinners", "1", "-truth", truth.toString())) {
      Optional<Seen> traced = firstRequestSeen(map, service, writer);
      if (traced.isEmpty()) {
        results.add(CheckResult.fail("3.1", AUDIT_IN_REQUESTS, "the writer showed no entry for a second process of the binary"));
        return;
      }
      traced.get().response().join();
      List<ContextAuditor.Sample> samples = new ArrayList<>();
      long lost;
      try (ContextAuditor auditor = ContextAuditor.start(pinRoot, AUDIT_HZ, samples::add)) {
        auditor.audit(service.pid(), GoroutineLocators.of(GoProgram.inspect(workload)));
        load(service, auditor::drain);
        auditor.drain();
        lost = auditor.lost();
      }
      List<ExactnessAudit.Request> requests = ExactnessAudit.readTruth(truth);
      poll(EXPORT_WAIT, () -> exportedServerSpans(receiver) >= requests.size());
      ExactnessAudit audit = new ExactnessAudit(requests, receiver.spans(), PARENT_ID, MonotonicClock.measure(), ProcessCode.of(workload, service.pid())::functionAt);
      samples.forEach(audit::judge);
      String how = samples.size() + " samples at " + AUDIT_HZ + " Hz of " + requests.size() + " requests"
          + (lost > 0 ? ", " + lost + " lost" : "") + (audit.requestsUnexported > 0 ? "; " + audit.requestsUnexported
              + " requests without an exported server span (" + audit.samplesOfUnexported + " samples not judged)" + refused(receiver) : "");
      results.add(CheckResult.of("3.1", AUDIT_IN_REQUESTS, audit.inRequests.exact() && audit.inRequests.judged() >= AUDIT_MIN_SAMPLES,
          "inside handlers: " + audit.inRequests + "; " + how));
      results.add(CheckResult.of("3.3", "any other sample shows no span, or its goroutine's own around the handler", audit.elsewhere.exact(),
          "elsewhere: " + audit.elsewhere + "; not judged: runtime code on the system or signal stack " + audit.onSystemStack
              + ", runtime.execute switching a goroutine in " + audit.switchingIn
              + (audit.unknownThread > 0 ? ", thread unreadable: " + audit.unknownThread : "")));
    } finally {
      Files.deleteIfExists(truth);
    }
  }

  private static final String AUDIT_IN_REQUESTS = "every sample inside a handler shows its request's exported span";

  private static long exportedServerSpans(OtlpReceiver receiver) {
    return receiver.spans().stream().filter(s -> s.parentSpanId().equals(PARENT_ID)).count();
  }

  private static String refused(OtlpReceiver receiver) {
    return receiver.refused().isEmpty() ? "" : "; the receiver refused: " + receiver.refused().getFirst();
  }

  /** Sends the audit's requests from {@link #AUDIT_CLIENTS} clients for {@link #AUDIT}, draining the auditor meanwhile. */
  private void load(ExampleService service, Runnable drain) throws InterruptedException {
    long deadline = System.nanoTime() + AUDIT.toNanos();
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < AUDIT_CLIENTS; c++) {
      int first = c;
      clients.add(Thread.ofPlatform().name("audit-client-" + c).start(() -> {
        for (int i = first; System.nanoTime() < deadline; i++) {
          HttpRequest req = HttpRequest.newBuilder(URI.create(service.url() + AUDIT_ROUTES.get(i % AUDIT_ROUTES.size())))
              .header("traceparent", "00-" + newTraceId() + "-" + PARENT_ID + "-01").build();
          try {
            http.send(req, HttpResponse.BodyHandlers.discarding());
          } catch (IOException e) {
            return; // the service died: the audit judges what it has
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }));
    }
    while (System.nanoTime() < deadline) {
      drain.run();
      Thread.sleep(50);
    }
    for (Thread t : clients) {
      t.join();
    }
  }

  /**
   * 2.1, 2.4: a second writer, for a copy of the workload's executable, starts while the first
   * runs: it reuses the pin and writes into it, and when it stops, the pin and the first writer's
   * entries stay.
   */
  private void secondWriter(BpfMap map, ExampleService shop, WriterProcess first, OtlpReceiver receiver) throws InterruptedException, IOException {
    int mapId = map.info().id();
    Path dir = Files.createTempDirectory("braid-conformance-second");
    Path copy = Files.copy(workload, dir.resolve(workload.getFileName()));
    try (ExampleService other = ExampleService.start(copy, "-addr", "127.0.0.1:0");
        WriterProcess second = WriterProcess.start(writerCommand, copy, pinRoot, receiver.endpoint())) {
      Optional<Seen> seen = firstRequestSeen(map, other, second);
      seen.ifPresent(s -> s.response().join());
      int idNow = currentMapId();
      results.add(CheckResult.of("2.1", "a second writer reuses the pin and writes into it", seen.isPresent() && idNow == mapId,
          seen.isEmpty() ? "no entry for its process within " + READY.toSeconds() + " s; it said:\n" + second.tail()
              : idNow == mapId ? "map id " + mapId + " kept" : "the pin now holds map id " + idNow + ", not " + mapId));
      second.stop();
      long left = mostSeenWithin(WATCH, () -> entriesOf(map, other.pid()).size());
      boolean firstWorks = firstRequestSeen(map, shop, first).map(s -> s.response().join()).isPresent();
      idNow = currentMapId();
      results.add(CheckResult.of("2.4", "when the second stops, the pin and the first writer's entries stay", firstWorks && idNow == mapId && left == 0,
          (idNow == mapId ? "map id kept" : "the pin holds map id " + idNow + ", not " + mapId) + "; the first writer " + (firstWorks ? "still shows requests" : "shows requests no more")
              + "; " + left + " entries of the second's process left"));
    } finally {
      Files.deleteIfExists(copy);
      Files.deleteIfExists(dir);
    }
  }

  private int currentMapId() {
    return TracesContextMap.openPinned(pinRoot).map(m -> {
      try (m) {
        return m.info().id();
      }
    }).orElse(0);
  }

  /**
   * 2.2: the writer, started where a map of another layout (value of 16 bytes) is pinned, says
   * what differs and stops, and leaves that pin as it was.
   */
  private CheckResult incompatiblePin(OtlpReceiver receiver) throws InterruptedException, IOException {
    Path root = Files.createTempDirectory(pinRoot, "incompatible-");
    Path foreignPin = TracesContextMap.pinPath(root);
    Files.createDirectories(foreignPin.getParent());
    Files.setAttribute(foreignPin.getParent(), "unix:mode", TracesContextMap.DIRECTORY_MODE);
    int foreignId;
    try (BpfMap foreign = BpfMap.create(TracesContextMap.TYPE, TracesContextMap.NAME, TracesContextMap.KEY_SIZE, 16, TracesContextMap.MAX_ENTRIES)) {
      foreign.pin(foreignPin);
      foreignId = foreign.info().id();
    }
    try (WriterProcess writer = WriterProcess.start(writerCommand, workload, root, receiver.endpoint())) {
      boolean stopped = poll(INCOMPATIBLE_STOP, () -> !writer.alive());
      String said = writer.tail();
      int idNow = BpfMap.openPinned(foreignPin).map(m -> {
        try (m) {
          return m.info().id();
        }
      }).orElse(0);
      boolean named = said.toLowerCase().contains("value");
      return CheckResult.of("2.2", "a writer that meets a pin of another layout says what differs, stops, leaves the pin", stopped && named && idNow == foreignId,
          (stopped ? "stopped" : "still running after " + INCOMPATIBLE_STOP.toSeconds() + " s") + (named ? ", named the value size" : ", did not name the value size")
              + (idNow == foreignId ? ", pin untouched" : ", the pin was replaced or removed") + "; it said: " + lastLine(said));
    } finally {
      Files.deleteIfExists(foreignPin);
      Files.deleteIfExists(foreignPin.getParent());
      Files.deleteIfExists(root);
    }
  }

  private static String lastLine(String text) {
    String t = text.strip();
    return t.substring(t.lastIndexOf('\n') + 1);
  }

  /** 3.5: a second process of the workload, killed mid-request, leaves no entry after CLEANUP. */
  private CheckResult processExitCleanup(BpfMap map) throws InterruptedException {
    try (ExampleService victim = ExampleService.start(workload, "-addr", "127.0.0.1:0")) {
      String trace = newTraceId();
      slowRequest(victim, trace, 3000);
      // The writer finds a new process of the binary by itself (braid: within a second).
      if (!poll(Duration.ofSeconds(10), () -> entriesOf(map, victim.pid()).stream().anyMatch(e -> e.context().traceId().equals(trace)))) {
        return CheckResult.fail("3.5", "a killed process leaves no entry within 2 s", "the writer showed no entry for a second process of the binary");
      }
      victim.process().destroyForcibly(); // SIGKILL, mid-request
      long start = System.nanoTime();
      boolean gone = poll(CLEANUP, () -> entriesOf(map, victim.pid()).isEmpty());
      long ms = (System.nanoTime() - start) / 1_000_000;
      Thread.sleep(Math.max(0, CLEANUP.toMillis() - ms));
      long after = mostSeenWithin(WATCH, () -> entriesOf(map, victim.pid()).size()); // and they stay gone
      return CheckResult.of("3.5", "a killed process leaves no entry within 2 s", gone && after == 0,
          gone && after == 0 ? "gone after " + ms + " ms" : after + " entries " + CLEANUP.toSeconds() + " s after the process died");
    }
  }

  private Stopped stop(BpfMap map, WriterProcess writer, int pid) throws InterruptedException {
    boolean inTime = writer.stop();
    return new Stopped(inTime, mostSeenWithin(WATCH, () -> entriesOf(map, pid).size()));
  }

  /** The most that {@code count} gave while the suite polled it for {@code window}. */
  private static long mostSeenWithin(Duration window, java.util.function.LongSupplier count) throws InterruptedException {
    long most = 0;
    long deadline = System.nanoTime() + window.toNanos();
    do {
      most = Math.max(most, count.getAsLong());
      Thread.sleep(5);
    } while (System.nanoTime() < deadline);
    return most;
  }

  private Optional<Seen> firstRequestSeen(BpfMap map, ExampleService shop, WriterProcess writer) throws InterruptedException {
    long deadline = System.nanoTime() + READY.toNanos();
    while (System.nanoTime() < deadline && writer.alive()) {
      String trace = newTraceId();
      CompletableFuture<HttpResponse<String>> response = slowRequest(shop, trace, 400);
      while (!response.isDone()) {
        for (Entry e : entriesOf(map, shop.pid())) {
          if (e.context().traceId().equals(trace)) {
            return Optional.of(new Seen(trace, e, response));
          }
        }
        Thread.sleep(5);
      }
    }
    return Optional.empty();
  }

  /** The entries of a process's threads, now (the map is opened once: the pin stays). */
  private static List<Entry> entriesOf(BpfMap map, int pid) {
    List<Entry> found = new ArrayList<>();
    for (byte[] key : map.keys()) {
      long k = TracesContextMap.keyValue(key);
      if (k >>> 32 == pid) {
        map.lookup(key).ifPresent(v -> found.add(new Entry(k, TraceContext.fromBytes(v))));
      }
    }
    return found;
  }

  private CompletableFuture<HttpResponse<String>> slowRequest(ExampleService service, String trace, int ms) {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(service.url() + "/checkout?ms=" + ms)).header("traceparent", "00-" + trace + "-" + PARENT_ID + "-01").build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
  }

  private static boolean poll(Duration limit, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(5);
    }
    return condition.getAsBoolean();
  }

  private static String newTraceId() {
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    id[0] |= 1; // never all zero
    return HexFormat.of().formatHex(id);
  }
}
