package dev.braid.conformance;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.MonotonicClock;
import dev.braid.correlator.GoroutineLocators;
import dev.braid.tracer.GoProgram;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * 3.1–3.4 at every instant: a service with a busy goroutine that serves no request takes requests
 * of every kind from several clients ({@link AuditWorkload}: HTTP, or gRPC) while {@link
 * ContextAuditor} samples each CPU at {@link #HZ}; each sample's entry is judged against the
 * service's truth log and the spans the writer exported ({@link ExactnessAudit}).
 */
final class ExactnessCheck {
  /**
   * How long the load runs at least, and at most while the samples are too few (a kernel that
   * lowered perf_event_max_sample_rate, a slow or busy machine); how often each CPU is sampled;
   * how many clients send requests.
   */
  static final Duration LOAD = Duration.ofSeconds(5);
  static final Duration LOAD_LIMIT = Duration.ofSeconds(60);
  static final long HZ = 10_000;
  /** How long the writer may take to export the spans of the audited requests. */
  static final Duration EXPORT_WAIT = Duration.ofSeconds(30);
  /** Below this many samples inside requests, the audit has seen too little to judge. */
  static final long MIN_SAMPLES = 1000;
  /** The load goes on past {@link #LOAD} until this many samples came (about a third of them inside handlers). */
  static final long ENOUGH_SAMPLES = 10 * MIN_SAMPLES;
  /** Above this share of requests with no exported span, the audit is inconclusive. */
  static final double MOST_UNJUDGED = 0.05;
  static final String IN_REQUESTS = "every sample inside a handler shows its request's exported span";
  static final String ELSEWHERE = "any other sample shows no span, or its goroutine's own around the handler";

  private final AuditWorkload workload;
  private final Path pinRoot;
  private final Consumer<String> progress;
  private final Duration coverWithin;

  ExactnessCheck(AuditWorkload workload, Path pinRoot, Duration coverWithin, Consumer<String> progress) {
    this.workload = workload;
    this.pinRoot = pinRoot;
    this.coverWithin = coverWithin;
    this.progress = progress;
  }

  List<CheckResult> run(BpfMap map, Writer writer, OtlpReceiver receiver) throws InterruptedException, IOException {
    progress.accept("auditing" + workload.label() + ": " + LOAD.toSeconds() + " s of requests (more until " + ENOUGH_SAMPLES + " samples came, at most "
        + LOAD_LIMIT.toSeconds() + " s), every entry sampled at " + HZ + " Hz on each CPU");
    Path truth = Files.createTempFile("braid-conformance-truth", ".log");
    try (ServiceProcess service = workload.start(truth)) {
      Optional<String> untraced = workload.untraced(map, service, writer, coverWithin);
      if (untraced.isPresent()) {
        return List.of(CheckResult.fail("3.1", IN_REQUESTS + workload.label(), "within " + coverWithin.toSeconds() + " s, " + workload.service().getFileName()
            + " (pid " + service.pid() + ") showed " + untraced.get() + "; the writer said:\n" + writer.tail()));
      }
      List<ContextAuditor.Sample> samples = new ArrayList<>();
      long lost;
      long auditStart = System.nanoTime(); // CLOCK_MONOTONIC, the truth log's clock
      try (ContextAuditor auditor = ContextAuditor.start(pinRoot, HZ, samples::add)) {
        auditor.audit(service.pid(), GoroutineLocators.of(GoProgram.inspect(workload.service())));
        load(service, auditor::drain, () -> samples.size() >= ENOUGH_SAMPLES);
        auditor.drain();
        lost = auditor.lost();
      }
      List<ExactnessAudit.Request> requests = ExactnessAudit.readTruth(truth);
      // Those the suite sent until the writer showed one ended before the audit sampled: not waited for.
      java.util.Set<String> traces = new java.util.HashSet<>(requests.stream().filter(r -> r.endNanos() >= auditStart).map(ExactnessAudit.Request::traceId).toList());
      progress.accept("waiting for the writer to export the spans of " + traces.size() + " requests");
      long waited = exportWait(receiver, traces);
      ProcessCode code = ProcessCode.of(workload.service(), service.pid());
      ExactnessAudit audit = new ExactnessAudit(requests, auditStart, receiver.spans(), MonotonicClock.measure(), code::functionAt, code::inSignalReturn);
      samples.forEach(audit::judge);
      boolean unsure = tooManyUnjudged(audit.requestsUnexported, audit.requestsInWindow);
      String how = samples.size() + " samples at " + HZ + " Hz of " + audit.requestsInWindow + " requests" + (lost > 0 ? ", " + lost + " lost" : "")
          + "; " + audit.requestsUnexported + " requests not judged (no span of theirs came within " + waited / 1000 + " s of the load's end)"
          + (unsure ? " (over " + Math.round(MOST_UNJUDGED * 100) + "%: inconclusive)" : "") + " (" + audit.samplesOfUnexported + " samples)"
          + (Math.abs(audit.clockSkewMicros) >= 1000 ? "; the writer's timestamps were " + audit.clockSkewMicros / 1000 + " ms from this host's wall clock (the wall clock drifts from CLOCK_MONOTONIC; fitted per request)" : "")
          + (audit.foreignTraces > 0 ? "; meanwhile it exported " + audit.foreignTraces + " traces that no request had (traceparents not continued?)" : "") + refused(receiver);
      Map<String, Long> unjudged = Map.of("requests", audit.requestsInWindow, "requests_unjudged", audit.requestsUnexported, "foreign_traces", audit.foreignTraces);
      return List.of(
          verdict(CheckResult.of("3.1", IN_REQUESTS + workload.label(), audit.inRequests.exact() && audit.inRequests.judged() >= MIN_SAMPLES,
              tooFew(audit.inRequests) + "inside handlers: " + audit.inRequests + "; " + how).withCounts(merged(audit.inRequests.counts(), unjudged)), audit.inRequests, unsure),
          verdict(CheckResult.of("3.3", ELSEWHERE + workload.label(), audit.elsewhere.exact() && audit.elsewhere.judged() >= MIN_SAMPLES,
              tooFew(audit.elsewhere) + "elsewhere: " + audit.elsewhere + "; not judged: runtime code on the system or signal stack " + audit.onSystemStack
                  + ", runtime.execute switching a goroutine in " + audit.switchingIn
                  + (audit.unknownThread > 0 ? ", thread unreadable: " + audit.unknownThread : "")).withCounts(merged(elsewhereCounts(audit), unjudged)), audit.elsewhere, unsure));
    } finally {
      Files.deleteIfExists(truth);
    }
  }

  private static String tooFew(ExactnessAudit.Tally tally) {
    return tally.judged() < MIN_SAMPLES ? "too few samples to judge (" + tally.judged() + " < " + MIN_SAMPLES + "); " : "";
  }

  private static Map<String, Long> elsewhereCounts(ExactnessAudit audit) {
    Map<String, Long> counts = audit.elsewhere.counts();
    counts.put("not_judged_system_stack", audit.onSystemStack);
    counts.put("not_judged_switching_in", audit.switchingIn);
    counts.put("not_judged_unreadable", audit.unknownThread);
    return counts;
  }

  /**
   * Waits until every audited request has a span exported (at most {@link #EXPORT_WAIT}), and
   * then until no more of theirs come for a second (a writer may export a request's spans in
   * several batches); how long it waited, in ms.
   */
  private static long exportWait(OtlpReceiver receiver, java.util.Set<String> traces) throws InterruptedException {
    long start = System.nanoTime();
    PinProbe.poll(EXPORT_WAIT, () -> receiver.spans().stream().map(OtlpReceiver.ExportedSpan::traceId).filter(traces::contains).distinct().count() >= traces.size());
    long limit = start + EXPORT_WAIT.toNanos() + 1_000_000_000L;
    long count = spansOf(receiver, traces);
    for (long stableSince = System.nanoTime(); System.nanoTime() - stableSince < 1_000_000_000L && System.nanoTime() < limit; ) {
      Thread.sleep(100);
      long now = spansOf(receiver, traces);
      if (now != count) {
        count = now;
        stableSince = System.nanoTime();
      }
    }
    return (System.nanoTime() - start) / 1_000_000;
  }

  private static long spansOf(OtlpReceiver receiver, java.util.Set<String> traces) {
    return receiver.spans().stream().filter(s -> traces.contains(s.traceId())).count();
  }

  /** More than {@link #MOST_UNJUDGED} of the requests had no exported span to judge their samples by. */
  static boolean tooManyUnjudged(long unexported, long requests) {
    return unexported > MOST_UNJUDGED * requests;
  }

  /** A check with too many requests unjudged is inconclusive, unless what was judged already failed it. */
  static CheckResult verdict(CheckResult check, ExactnessAudit.Tally tally, boolean unsure) {
    return unsure && tally.wrong + tally.stale + tally.missing == 0 ? check.inconclusive() : check;
  }

  private static Map<String, Long> merged(Map<String, Long> a, Map<String, Long> b) {
    Map<String, Long> all = new java.util.LinkedHashMap<>(a);
    all.putAll(b);
    return all;
  }

  private static String refused(OtlpReceiver receiver) {
    return receiver.refused().isEmpty() ? "" : "; the receiver refused: " + receiver.refused().getFirst();
  }

  /**
   * Runs the workload's load for {@link #LOAD}, and on until {@code enough} holds (at most {@link
   * #LOAD_LIMIT}), draining the auditor meanwhile.
   */
  void load(ServiceProcess service, Runnable drain, BooleanSupplier enough) throws InterruptedException {
    long start = System.nanoTime();
    try (AuditWorkload.RunningLoad load = workload.startLoad(service)) {
      while (true) {
        drain.run();
        long elapsed = System.nanoTime() - start;
        if (elapsed >= LOAD_LIMIT.toNanos() || elapsed >= LOAD.toNanos() && enough.getAsBoolean()) {
          break;
        }
        Thread.sleep(50);
      }
    }
  }
}
