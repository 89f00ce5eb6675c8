package dev.braid.conformance;

import static dev.braid.conformance.PinProbe.WATCH;
import static dev.braid.conformance.PinProbe.entriesOf;
import static dev.braid.conformance.PinProbe.mostSeenWithin;
import static dev.braid.conformance.PinProbe.poll;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.Btf;
import dev.braid.bpf.MapInfo;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.TracesContextMap;
import dev.braid.conformance.PinProbe.Entry;
import dev.braid.conformance.PinProbe.Seen;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Judges a writer of traces_ctx_v1 against spec/traces_ctx_v1.md with a ground-truth Go service
 * (examples/shop): the pin's shape, requests with known traceparents read back while they run and
 * after they end, an audit of every entry at a high rate ({@link ExactnessCheck}), a second writer
 * and a foreign pin ({@link CoexistenceChecks}), a process that dies, a thread that exits and a
 * writer that stops, each mid-request; with {@link #withGrpc}, the audit again on a gRPC service.
 * Every check names its clause and its level (the OTEP's contract, or braid's stricter profile). The
 * writer is one the suite starts ({@link WriterProcess}) for the service's executable, exporting its
 * spans to the suite's {@link OtlpReceiver}; it is judged on each new process once it covers it.
 */
public final class ConformanceSuite {
  /** 3.5, braid profile: entries of a process are gone this soon after it exits. */
  static final Duration CLEANUP = Duration.ofSeconds(2);
  /** 3.5, contract: the OTEP names no delay; the suite waits this long for entries of a dead process to go. */
  static final Duration CONTRACT_CLEANUP = Duration.ofSeconds(10);
  /** How long a request has run, once its entry showed, when the suite kills it (3.5) or ends it (3.4). */
  static final Duration MID_REQUEST = Duration.ofMillis(500);

  /** What the suite cannot check on a writer it did not start. */
  static final List<String> NOT_RUN_ON_A_RUNNING_WRITER = List.of(
      "2.1, 2.4: a second writer next to the first (it starts one)",
      "3.5, 2.4: a writer that stops (it stops the writer)",
      "2.2: a writer that meets a pin of another layout (it starts one)",
      "3.1, 3.3 on gRPC: the audit of a gRPC service (it starts the writer for that service)");

  private final Path workload;
  private final Path pinRoot;
  private final Optional<String> writerCommand;
  private final InetSocketAddress otlpListen;
  private final InetSocketAddress otlpGrpcListen;
  private PinProbe probe = new PinProbe(PinProbe.READY);
  private Optional<AuditWorkload.Grpc> grpc = Optional.empty();
  private final List<CheckResult> results = new ArrayList<>();
  private Consumer<String> progress = step -> {};

  /**
   * For a writer the suite starts.
   *
   * @param workload the Go service to run under the writer (examples/shop)
   * @param pinRoot the bpffs directory the writer pins under
   * @param writerCommand how to start the writer ({@code {exe}}, {@code {pin-path}}, {@code {otlp-endpoint}}, {@code
   *     {otlp-grpc-endpoint}} are replaced)
   */
  public ConformanceSuite(Path workload, Path pinRoot, String writerCommand) {
    this(workload, pinRoot, Optional.of(writerCommand), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
  }

  private ConformanceSuite(Path workload, Path pinRoot, Optional<String> writerCommand, InetSocketAddress otlpListen, InetSocketAddress otlpGrpcListen) {
    this.workload = workload;
    this.pinRoot = pinRoot;
    this.writerCommand = writerCommand;
    this.otlpListen = otlpListen;
    this.otlpGrpcListen = otlpGrpcListen;
  }

  /**
   * For a writer that is already running: it traces the processes of {@code workload} (a copy of
   * examples/shop where the writer looks), pins under {@code pinRoot} and exports its spans over
   * OTLP/HTTP to {@code otlpListen} or OTLP/gRPC to {@code otlpGrpcListen}, where the suite's
   * receiver listens.
   */
  public static ConformanceSuite forRunningWriter(Path workload, Path pinRoot, InetSocketAddress otlpListen, InetSocketAddress otlpGrpcListen) {
    return new ConformanceSuite(workload, pinRoot, Optional.empty(), otlpListen, otlpGrpcListen);
  }

  private String subject(OtlpReceiver receiver) {
    return writerCommand.orElse("the writer already running (pin under " + pinRoot + ", spans to " + receiver.endpoint() + " or " + receiver.grpcEndpoint() + ")");
  }

  private Report report(OtlpReceiver receiver) {
    return new Report(subject(receiver), results, writerCommand.isPresent() ? List.of() : NOT_RUN_ON_A_RUNNING_WRITER);
  }

  /** Removes a pin root the suite made, with whatever writers pinned in it. */
  public static void removeTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Also audits a gRPC service ({@code grpcshop} of examples/grpc, called by its {@code
   * grpcload}), for a writer the suite starts: once the other checks are done it starts the writer
   * again for that service.
   */
  public ConformanceSuite withGrpc(Path grpcshop, Path grpcload) {
    this.grpc = Optional.of(new AuditWorkload.Grpc(grpcshop, grpcload));
    return this;
  }

  /**
   * How long a writer may take to cover a process (pin the map, show a request's context) before a
   * check fails or is inconclusive; 60 s by default, for writers that attach to new processes late.
   */
  public ConformanceSuite withCoverWithin(Duration limit) {
    this.probe = new PinProbe(limit);
    return this;
  }

  /** Tells {@code progress} each step as it begins (the CLI prints them: a run takes half a minute). */
  public ConformanceSuite withProgress(Consumer<String> progress) {
    this.progress = progress;
    return this;
  }

  /** Runs every check; a writer that never gets ready fails the first and ends the run. */
  public Report run() throws IOException, InterruptedException {
    progress.accept(writerCommand.isPresent() ? "starting the writer and waiting for its pin" : "looking for the running writer's pin");
    CoexistenceChecks coexistence = new CoexistenceChecks(workload, pinRoot, writerCommand.orElse(""), probe, progress);
    try (OtlpReceiver receiver = OtlpReceiver.start(otlpListen, otlpGrpcListen);
        ServiceProcess shop = ServiceProcess.start(workload, "-addr", "127.0.0.1:0");
        Writer writer = writerCommand.isPresent() ? WriterProcess.start(writerCommand.get(), workload, pinRoot, receiver) : Writer.alreadyRunning()) {
      if (!poll(probe.ready(), () -> Files.exists(pin()) || !writer.alive()) || !Files.exists(pin())) { // it died, or never pinned
        results.add(CheckResult.fail("1.1", "pinned at PIN/otel/traces_ctx_v1", "nothing pinned within " + probe.ready().toSeconds() + " s; the writer said:\n" + writer.tail()));
        return report(receiver);
      }
      try (BpfMap map = BpfMap.openPinned(pin()).orElseThrow(() -> new IOException(pin() + " vanished"))) {
        if (pinChecks(map)) { // else its entries cannot be read as the contract's
          requestChecks(map, shop, writer, receiver, coexistence);
        }
      }
      if (writer.startedBySuite()) {
        results.addAll(guarded("2.2", CoexistenceChecks.INCOMPATIBLE, () -> coexistence.incompatiblePin(receiver)));
      }
      return report(receiver);
    }
  }

  /** 3.x, 1.4, 1.5, 2.x: requests that run and end, the audit, a second writer, a process that dies, a writer that stops. */
  private void requestChecks(BpfMap map, ServiceProcess shop, Writer writer, OtlpReceiver receiver, CoexistenceChecks coexistence)
      throws InterruptedException, IOException {
    progress.accept("waiting for the writer to show a request");
    Optional<Seen> first = probe.firstRequestSeen(map, shop, writer);
    Optional<Entry> seen = first.map(Seen::entry);
    results.add(CheckResult.of("3.1", "a running request's thread shows its trace (1.5: W3C bytes)", seen.isPresent(),
        first.map(f -> f.entry().context().traceId() + "-" + f.entry().context().spanId() + ", " + f.covered())
            .orElse("no entry with the request's trace id within " + probe.ready().toSeconds() + " s; the writer said:\n" + writer.tail())));
    if (seen.isEmpty()) {
      return;
    }
    entryChecks(shop, seen.get());
    PinProbe.answered(first.get().response());
    results.add(afterTheRequest(map, shop));
    results.addAll(guarded("3.1", ExactnessCheck.IN_REQUESTS,
        () -> new ExactnessCheck(AuditWorkload.Http.shop(workload, probe), pinRoot, probe.ready(), progress).run(map, writer, receiver)));
    if (writer.startedBySuite()) {
      results.addAll(guarded("2.1", CoexistenceChecks.SECOND_WRITER, () -> coexistence.secondWriter(map, shop, writer, receiver)));
    }
    results.addAll(guarded("3.5", KILLED, () -> processExitCleanup(map, writer)));
    results.addAll(guarded("3.5", THREAD_EXIT, () -> List.of(threadExit(map, shop))));
    if (writer instanceof WriterProcess started) {
      results.addAll(guarded("3.5", STOPPED, () -> stopChecks(map, shop, started)));
      if (grpc.isPresent()) {
        results.addAll(guarded("3.1", ExactnessCheck.IN_REQUESTS + grpc.get().label(), () -> grpcAudit(map, receiver, grpc.get())));
      }
    }
  }

  /** 3.1, 3.3 on gRPC: the audit again, with the writer started anew for the gRPC service. */
  private List<CheckResult> grpcAudit(BpfMap map, OtlpReceiver receiver, AuditWorkload.Grpc workload) throws IOException, InterruptedException {
    progress.accept("starting the writer for " + workload.service().getFileName() + " (gRPC)");
    try (WriterProcess writer = WriterProcess.start(writerCommand.orElseThrow(), workload.service(), pinRoot, receiver)) {
      return new ExactnessCheck(workload, pinRoot, probe.ready(), progress).run(map, writer, receiver);
    }
  }

  /**
   * 3.5, 2.4: a writer stopped (SIGTERM, then SIGKILL after 30 s) while a request runs leaves no
   * entry of the process once the request ends (it has no probe left to end it by), but the pin.
   */
  private List<CheckResult> stopChecks(BpfMap map, ServiceProcess shop, WriterProcess writer) throws InterruptedException {
    String check = STOPPED;
    progress.accept("stopping the writer while a request runs");
    Optional<Seen> held = probe.holdUntilSeen(map, shop, writer);
    boolean inTime = writer.stop();
    if (held.isPresent()) {
      probe.release(shop, held.get().trace());
    }
    boolean answered = held.map(h -> PinProbe.answered(h.response())).orElse(false);
    long left = mostSeenWithin(WATCH, () -> entriesOf(map, shop.pid()).size());
    String how = inTime ? "stopped by SIGTERM" : "killed: still running 30 s after SIGTERM";
    return List.of(held.isEmpty() ? CheckResult.fail("3.5", check, "no entry of a held request was seen before the stop; " + how)
            : CheckResult.of("3.5", check, left == 0 && answered, left + " entries left after the request " + (answered ? "ended" : "got no answer") + "; " + how),
        CheckResult.of("2.4", "the pin outlives the writer", Files.exists(pin()), Files.exists(pin()) ? "still pinned" : "the pin is gone"));
  }

  /** A check that does more than read the pin: when it cannot run, it fails with the reason instead of ending the run. */
  interface Check {
    List<CheckResult> run() throws IOException, InterruptedException;
  }

  private static List<CheckResult> guarded(String clause, String check, Check c) throws InterruptedException {
    try {
      return c.run();
    } catch (IOException | RuntimeException e) {
      return List.of(CheckResult.fail(clause, check, "the check could not run: " + e));
    }
  }

  private Path pin() {
    return TracesContextMap.pinPath(pinRoot);
  }

  /** 1.1–1.3 and 2.5: where the pin is, its directory, its mode and its shape; false when the shape is not the contract's. */
  private boolean pinChecks(BpfMap map) throws IOException {
    results.add(CheckResult.of("1.1", "pinned at PIN/otel/traces_ctx_v1", Files.exists(pin()), pin().toString()));
    int dirMode = (int) Files.getAttribute(pin().getParent(), "unix:mode") & 07777;
    results.add(CheckResult.of("1.2", "its directory has mode 01700", dirMode == TracesContextMap.DIRECTORY_MODE, String.format("%04o", dirMode)).profile());
    MapInfo info = map.info();
    List<String> differences = TracesContextMap.differences(info);
    results.add(CheckResult.of("1.3", "LRU hash, 16384 entries, key 8, value 24, flags 0",
        differences.isEmpty(), differences.isEmpty() ? info.typeName() + " " + info.maxEntries() + " x " + info.keySize() + "+" + info.valueSize() : String.join(", ", differences)));
    results.add(valueBtf(info).profile());
    int pinMode = (int) Files.getAttribute(pin(), "unix:mode") & 07777;
    results.add(CheckResult.of("2.5", "the pin has mode 0600", pinMode == 0600, String.format("%04o", pinMode)).profile());
    return differences.isEmpty();
  }

  /** 1.3, 1.5: the value's BTF is a struct of 24 bytes, trace_id at 0 and span_id at 16 (what bpftool and readers show). */
  private static CheckResult valueBtf(MapInfo info) {
    String check = "the value's BTF is struct {trace_id[16]; span_id[8]}";
    if (info.btfId() <= 0 || info.btfValueTypeId() <= 0) {
      return CheckResult.fail("1.3", check, "no BTF (btf id " + info.btfId() + ", value type " + info.btfValueTypeId() + ")");
    }
    try (Btf btf = Btf.ofKernel(info.btfId())) {
      Optional<Btf.Struct> value = btf.structOf(info.btfValueTypeId());
      boolean right = value.filter(v -> v.size() == TraceContext.SIZE && v.members().size() == 2
          && v.member("trace_id").filter(m -> m.offset() == 0).isPresent() && v.member("span_id").filter(m -> m.offset() == 16).isPresent()).isPresent();
      return CheckResult.of("1.3", check, right, value.map(v -> "struct " + v.name() + " {"
          + String.join(", ", v.members().stream().map(m -> m.name() + "@" + m.offset()).toList()) + "}, " + v.size() + " bytes").orElse("the value's type is no struct"));
    } catch (RuntimeException e) {
      return CheckResult.fail("1.3", check, "its BTF cannot be read: " + e.getMessage());
    }
  }

  /** 1.4 and 1.5: the entry of a running request, keyed by its thread, in W3C byte order. */
  private void entryChecks(ServiceProcess shop, Entry e) {
    long tgid = e.key() >>> 32;
    long tid = e.key() & 0xffffffffL;
    boolean thread = tgid == shop.pid() && Files.exists(Path.of("/proc", Long.toString(tgid), "task", Long.toString(tid)));
    results.add(CheckResult.of("1.4", "the key is the thread's tgid << 32 | tid", thread, "tgid " + tgid + ", tid " + tid));
    results.add(CheckResult.of("3.6", "the span id is not zero", e.context().span() != 0, e.context().spanId()));
  }

  /**
   * 3.4: a request sent once the writer is ready, which burns CPU until the suite has seen its
   * entry (so its entry exists from the request's start, however slow the machine), and for
   * {@link #MID_REQUEST} more, long enough for anyone watching the map to have seen it too: once it
   * ended, no entry shows its trace, for as long as the suite watches.
   */
  private CheckResult afterTheRequest(BpfMap map, ServiceProcess shop) throws InterruptedException {
    String check = "no entry shows a request that ended";
    String trace = PinProbe.newTraceId();
    var response = probe.hold(shop, trace);
    AtomicBoolean shown = new AtomicBoolean();
    poll(PinProbe.REQUEST_TIMEOUT, () -> {
      shown.compareAndSet(false, entriesOf(map, shop.pid()).stream().anyMatch(e -> e.context().traceId().equals(trace)));
      return shown.get() || response.isDone();
    });
    if (shown.get()) {
      Thread.sleep(MID_REQUEST.toMillis());
    }
    String releaseTrace = probe.release(shop, trace);
    if (!PinProbe.answered(response) || !shown.get()) {
      return CheckResult.fail("3.4", check, "a second request " + (shown.get() ? "got no answer" : "showed no entry while it ran"));
    }
    Set<String> ended = Set.of(trace, releaseTrace);
    long seen = mostSeenWithin(WATCH, () -> entriesOf(map, shop.pid()).stream().filter(e -> ended.contains(e.context().traceId())).count());
    return CheckResult.of("3.4", check, seen == 0, seen + " entries of the ended requests (held and its release) within " + WATCH.toMillis() + " ms of their end");
  }

  /**
   * 3.5: a second process of the workload, killed mid-request (once the writer covers it, however
   * late), leaves no entry: within {@link #CONTRACT_CLEANUP} for the contract, {@link #CLEANUP}
   * for braid's profile.
   */
  private List<CheckResult> processExitCleanup(BpfMap map, Writer writer) throws InterruptedException {
    String contract = KILLED;
    String profile = KILLED + " within " + CLEANUP.toSeconds() + " s";
    progress.accept("killing a process mid-request");
    try (ServiceProcess victim = ServiceProcess.start(workload, "-addr", "127.0.0.1:0")) {
      Optional<Seen> held = probe.holdUntilSeen(map, victim, writer);
      if (held.isEmpty()) {
        String why = "the writer showed no entry for a new process of the binary within " + probe.ready().toSeconds() + " s";
        return List.of(CheckResult.fail("3.5", contract, why), CheckResult.fail("3.5", profile, why).profile());
      }
      // Well inside the request, not at its first instant: the entry has lived long enough for
      // anyone watching the map (the writer's own sweeps, a profiler) to have seen it.
      Thread.sleep(MID_REQUEST.toMillis());
      victim.kill(); // mid-request
      long start = System.nanoTime();
      boolean gone = poll(CONTRACT_CLEANUP, () -> entriesOf(map, victim.pid()).isEmpty());
      long ms = (System.nanoTime() - start) / 1_000_000;
      Thread.sleep(Math.max(0, CLEANUP.toMillis() - ms));
      long after = mostSeenWithin(WATCH, () -> entriesOf(map, victim.pid()).size()); // and they stay gone
      String figure = (gone && after == 0 ? "gone after " + ms + " ms"
          : after + " entries " + Math.max(ms, CLEANUP.toMillis()) / 1000 + " s after the process died") + "; " + held.get().covered();
      return List.of(CheckResult.of("3.5", contract, gone && after == 0, figure),
          CheckResult.of("3.5", profile, gone && after == 0 && ms <= CLEANUP.toMillis(), figure).profile());
    }
  }

  static final String KILLED = "a killed process leaves no entry";
  static final String THREAD_EXIT = "a thread that exits mid-request leaves no entry";
  static final String STOPPED = "a writer stopped mid-request leaves no entry once the request ended";

  /**
   * 3.5: a thread that exits mid-request leaves no entry. shop's /thread-exit locks its handler's
   * goroutine to its thread and ends that goroutine there, so the thread exits under the request's
   * own span, which never ends normally: every writer stamps a handler's thread (3.1), so every
   * writer is judged, with or without 3.7's inheritance. The connection closes, cutting the answer.
   */
  private CheckResult threadExit(BpfMap map, ServiceProcess shop) throws IOException, InterruptedException {
    progress.accept("ending a thread mid-request");
    String trace = PinProbe.newTraceId();
    var response = probe.http().sendAsync(probe.request(shop, "/thread-exit?ms=500&key=" + trace, trace), java.net.http.HttpResponse.BodyHandlers.ofInputStream());
    try (var body = new java.io.BufferedReader(new java.io.InputStreamReader(response.join().body(), java.nio.charset.StandardCharsets.UTF_8))) {
      String first = String.valueOf(body.readLine());
      if (!first.startsWith("tid ")) {
        probe.release(shop, trace);
        return CheckResult.fail("3.5", THREAD_EXIT, "shop's /thread-exit answered " + first);
      }
      long key = TracesContextMap.keyValue(TracesContextMap.key(shop.pid(), Integer.parseInt(first.substring(4).strip())));
      boolean shown = poll(Duration.ofSeconds(2), () -> entriesOf(map, shop.pid()).stream().anyMatch(e -> e.key() == key && e.context().traceId().equals(trace)));
      probe.release(shop, trace);
      try {
        body.transferTo(java.io.Writer.nullWriter());
      } catch (IOException expected) {
        // the handler's goroutine ended with its thread: net/http closed the connection mid-answer
      }
      long tid = key & 0xffffffffL;
      // The connection closes while Goexit runs the handler's defers, before the thread exits:
      // until then its entry is the running request's, so the watch starts once it is gone.
      Path thread = Path.of("/proc", Integer.toString(shop.pid()), "task", Long.toString(tid));
      if (!poll(Duration.ofSeconds(5), () -> !Files.exists(thread))) {
        return CheckResult.inconclusive("3.5", THREAD_EXIT, "thread " + tid + " did not exit: nothing to judge");
      }
      long left = mostSeenWithin(WATCH, () -> entriesOf(map, shop.pid()).stream().filter(e -> e.key() == key).count());
      CheckResult result = CheckResult.of("3.5", THREAD_EXIT, left == 0, left == 0 ? "thread " + tid + " exited, no entry of it left" : left + " entries left of thread " + tid + ", which exited");
      return shown || left > 0 ? result
          : CheckResult.inconclusive("3.5", THREAD_EXIT, "the writer never showed the request on its handler's thread " + tid + ", so its exit tells nothing");
    } catch (java.util.concurrent.CompletionException e) {
      return CheckResult.fail("3.5", THREAD_EXIT, "shop's /thread-exit failed: " + e.getCause());
    }
  }
}
