package dev.braid.conformance;

import dev.braid.bpf.MonotonicClock;
import dev.braid.bpf.TraceContext;
import dev.braid.conformance.ContextAuditor.Running;
import dev.braid.conformance.ContextAuditor.Sample;
import dev.braid.conformance.OtlpReceiver.ExportedSpan;
import dev.braid.elf.go.GoFunction;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongFunction;
import java.util.function.LongPredicate;
import java.util.stream.LongStream;

/**
 * Judges each audited sample's entry against the truth: the requests the service ran, on which
 * goroutine and when (shop's {@code -truth} log), and the spans the writer exported in each
 * request's trace (the suite sent each request a trace id of its own). A sample of a goroutine
 * inside a handler must show a span of that request's trace whose interval covers the sample
 * (the server span, or one nested in it: whichever the writer stamps; how often it is the
 * innermost such span is counted); any other sample must show nothing, or, on the same goroutine,
 * a span of its request around its handler (the writer opens it before the handler runs and ends
 * it after). Not judged: runtime code on the system or
 * signal stack (or on the signal path into it), which runs for a goroutine but is not its code, and {@code runtime.execute} (or what it calls) before it sets
 * {@code m.curg}, where a writer may already show the goroutine it is switching in (3.2): the first
 * may not show a span that has ended, the second only a request's span that still lasts. Nor are
 * samples judged that show, or fall in, a request whose span the writer did not export.
 */
final class ExactnessAudit {
  /** The runtime's signal entry, before (and around) the switch to the signal stack. */
  private static final List<String> SIGNAL_PATH = List.of("runtime.sigtramp", "runtime.cgoSigtramp", "runtime.sigreturn", "runtime.sigfwdgo", "runtime.adjustSignalStack");

  /** Slack for the writer's epoch timestamps, turned into monotonic time by another process. */
  static final long CLOCK_SLACK_NANOS = 250_000;

  /** A request of the truth log: goroutine, trace id, handler start and end (CLOCK_MONOTONIC). */
  record Request(long goid, String traceId, long startNanos, long endNanos) {}

  /** The span a writer exported for a request, in monotonic time. */
  private record RequestSpan(Request request, TraceContext context, long startNanos, long endNanos) {
    boolean lasts(long t) {
      return t >= startNanos - CLOCK_SLACK_NANOS && t <= endNanos + CLOCK_SLACK_NANOS;
    }

    boolean endedBefore(long t) {
      return t > endNanos + CLOCK_SLACK_NANOS;
    }
  }

  /** Samples of one kind: right, wrong, stale (an ended span) and missing (no entry). */
  static final class Tally {
    /** Whether the innermost span is counted: inside handlers, where a request may have several spans at once. */
    private final boolean countsInnermost;
    long right;
    /** Of the right ones: the span shown is the innermost exported span of the request that lasts then. */
    long innermost;
    long wrong;
    long stale;
    long missing;
    final List<String> examples = new ArrayList<>();
    /** Wrong samples by the Go function they were taken in. */
    final Map<String, Long> wrongIn = new HashMap<>();

    Tally(boolean countsInnermost) {
      this.countsInnermost = countsInnermost;
    }

    long judged() {
      return right + wrong + stale + missing;
    }

    /** right, wrong, stale, missing by name, for the report's JSON. */
    Map<String, Long> counts() {
      Map<String, Long> counts = new java.util.LinkedHashMap<>();
      counts.put("right", right);
      if (countsInnermost) {
        counts.put("innermost", innermost);
      }
      counts.put("wrong", wrong);
      counts.put("stale", stale);
      counts.put("missing", missing);
      return counts;
    }

    boolean exact() {
      return wrong == 0 && stale == 0 && missing == 0;
    }

    private void bad(Sample s, String what, String function) {
      if (examples.size() < 3) {
        examples.add(what + " (tid " + s.tid() + ", goroutine " + s.goid() + ", " + s.running().name().toLowerCase() + ", in " + function + ")");
      }
    }

    @Override
    public String toString() {
      return right + " right" + (!countsInnermost || innermost == right ? "" : " (" + innermost + " the innermost span)") + ", " + wrong + " wrong, " + stale + " stale, " + missing + " missing" + (examples.isEmpty() ? "" : "; e.g. " + String.join("; ", examples));
    }
  }

  private final Map<Long, NavigableMap<Long, Request>> requestsByGoroutine = new HashMap<>();
  private final Map<String, List<RequestSpan>> spansByTrace = new HashMap<>();
  private final Map<TraceContext, RequestSpan> spansByContext = new HashMap<>();
  private final Set<String> unexportedTraces = new HashSet<>();
  final Tally inRequests = new Tally(true);
  final Tally elsewhere = new Tally(false);
  long onSystemStack;
  long switchingIn;
  long unknownThread;
  long requestsUnexported;
  long samplesOfUnexported;
  /** The requests that ran while the audit sampled (or after it began). */
  long requestsInWindow;
  /** Spans the writer exported in traces of no request: requests whose traceparent it did not continue. */
  private final Set<TraceContext> foreignSpans = new HashSet<>();
  /** Of those, the traces begun while the audit sampled. */
  long foreignTraces;
  /** How far the writer's epoch timestamps were from the suite's reading of the wall clock (see {@link WriterClock}). */
  final long clockSkewMicros;

  private final LongFunction<Optional<GoFunction>> code;
  private final LongPredicate signalReturn;

  /**
   * @param requests every request of the service's truth log
   * @param windowStart when the audit began to sample (CLOCK_MONOTONIC): requests that ended
   *     before it, sent until the writer showed one, are neither judged nor counted as unexported
   * @param clock the suite's wall clock, for a writer that exported no request's span
   * @param code the Go function at a sampled instruction pointer
   */
  ExactnessAudit(List<Request> requests, long windowStart, List<ExportedSpan> exported, MonotonicClock clock, LongFunction<Optional<GoFunction>> code) {
    this(requests, windowStart, exported, clock, code, pc -> false);
  }

  /**
   * @param signalReturn whether a sampled instruction pointer is in a C library's signal-return
   *     trampoline ({@code __restore_rt}), which a cgo program's signal handlers return through
   */
  ExactnessAudit(
      List<Request> requests, long windowStart, List<ExportedSpan> exported, MonotonicClock clock, LongFunction<Optional<GoFunction>> code, LongPredicate signalReturn) {
    this.code = code;
    this.signalReturn = signalReturn;
    Map<String, List<ExportedSpan>> byTrace = new HashMap<>();
    for (ExportedSpan s : exported) {
      byTrace.computeIfAbsent(s.traceId(), t -> new ArrayList<>()).add(s);
    }
    WriterClock writerClock = WriterClock.fit(requests, byTrace, clock);
    clockSkewMicros = writerClock.medianSkewMicros();
    Set<String> requestTraces = new HashSet<>();
    for (Request r : requests) {
      requestTraces.add(r.traceId());
      requestsByGoroutine.computeIfAbsent(r.goid(), g -> new TreeMap<>()).put(r.startNanos(), r);
      boolean inWindow = r.endNanos() >= windowStart;
      requestsInWindow += inWindow ? 1 : 0;
      List<ExportedSpan> ofTrace = byTrace.getOrDefault(r.traceId(), List.of());
      if (ofTrace.isEmpty()) {
        requestsUnexported += inWindow ? 1 : 0;
        unexportedTraces.add(r.traceId());
        continue;
      }
      for (ExportedSpan s : ofTrace) {
        RequestSpan span = new RequestSpan(r, new TraceContext(s.traceId(), s.spanId()),
            writerClock.toMonotonicNanos(s.startEpochNanos()), writerClock.toMonotonicNanos(s.endEpochNanos()));
        spansByTrace.computeIfAbsent(r.traceId(), t -> new ArrayList<>()).add(span);
        spansByContext.putIfAbsent(span.context(), span);
      }
    }
    exported.stream().filter(e -> !requestTraces.contains(e.traceId())).forEach(e -> foreignSpans.add(new TraceContext(e.traceId(), e.spanId())));
    foreignTraces = exported.stream().filter(e -> !requestTraces.contains(e.traceId()) && writerClock.toMonotonicNanos(e.startEpochNanos()) >= windowStart)
        .map(ExportedSpan::traceId).distinct().count();
  }

  /** Reads shop's truth log: "goid trace-id start-ns end-ns" per line. */
  static List<Request> readTruth(Path file) throws IOException {
    List<Request> requests = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      String[] f = line.split(" ");
      if (f.length == 4 && f[1].length() == 32) {
        requests.add(new Request(Long.parseLong(f[0]), f[1], Long.parseLong(f[2]), Long.parseLong(f[3])));
      }
    }
    return requests;
  }

  void judge(Sample s) {
    Running running = s.running() != Running.UNKNOWN && onSignalPath(s) ? Running.SYSTEM_STACK : s.running();
    switch (running) {
      case UNKNOWN -> unknownThread++;
      case SYSTEM_STACK -> {
        if (showsEndedSpan(s)) {
          misjudged(elsewhere, s, "runtime code on the system stack");
        } else {
          onSystemStack++;
        }
      }
      case GOROUTINE, SCHEDULER -> {
        Optional<Request> request = s.running() == Running.GOROUTINE ? requestAt(s.goid(), s.monotonicNanos()) : Optional.empty();
        if (request.isPresent()) {
          judgeInRequest(s, request.get());
        } else {
          judgeElsewhere(s);
        }
      }
    }
  }

  private void judgeInRequest(Sample s, Request r) {
    List<RequestSpan> ofRequest = spansByTrace.get(r.traceId());
    if (ofRequest == null) {
      samplesOfUnexported++;
      return;
    }
    if (s.entry().isEmpty()) {
      inRequests.missing++;
      inRequests.bad(s, "no entry in request " + r.traceId(), function(s));
      return;
    }
    RequestSpan shown = spansByContext.get(s.entry().get());
    long t = s.monotonicNanos();
    if (shown != null && shown.request() == r && shown.lasts(t)) {
      inRequests.right++;
      // Within the clock's slack of t, at the instant or either side of it: a span of a few µs
      // would otherwise be innermost for every sample near it.
      if (LongStream.of(t, t - CLOCK_SLACK_NANOS, t + CLOCK_SLACK_NANOS).anyMatch(when -> innermostAt(ofRequest, when).map(shown::equals).orElse(true))) {
        inRequests.innermost++;
      }
    } else {
      misjudged(inRequests, s, "request " + r.traceId());
    }
  }

  /** Of a request's spans whose exported interval holds {@code t}, the one that started last. */
  private static Optional<RequestSpan> innermostAt(List<RequestSpan> ofRequest, long t) {
    return ofRequest.stream().filter(span -> t >= span.startNanos() && t <= span.endNanos())
        .max(java.util.Comparator.comparingLong(RequestSpan::startNanos).thenComparing(RequestSpan::endNanos, java.util.Comparator.reverseOrder()));
  }

  private void judgeElsewhere(Sample s) {
    if (s.entry().isEmpty()) {
      elsewhere.right++;
      return;
    }
    if (unexportedTraces.contains(s.entry().get().traceId())) {
      samplesOfUnexported++; // a request's span the writer did not export: nothing to judge it by
      return;
    }
    RequestSpan span = spansByContext.get(s.entry().get());
    boolean live = span != null && span.lasts(s.monotonicNanos());
    if (s.running() == Running.SCHEDULER && live && inExecute(s)) {
      switchingIn++; // the goroutine it switches in may already show (3.2)
      return;
    }
    if (live && s.running() == Running.GOROUTINE && span.request().goid() == s.goid()) {
      elsewhere.right++; // its own span, around the handler
    } else {
      misjudged(elsewhere, s, s.running() == Running.SCHEDULER ? "the scheduler" : "no request");
    }
  }

  /** An entry that is not the one expected: stale when it names a span that had ended, else wrong. */
  private void misjudged(Tally tally, Sample s, String where) {
    RequestSpan shown = spansByContext.get(s.entry().orElseThrow());
    if (shown != null && shown.endedBefore(s.monotonicNanos())) {
      tally.stale++;
      // Which of its spans, how long it lasted and where it ran: what a stale entry's cause is found by.
      tally.bad(s, where + " showed request " + shown.request().traceId() + " (span " + shown.context().spanId() + " of " + (shown.endNanos() - shown.startNanos()) / 1000
          + " µs, its handler on goroutine " + shown.request().goid() + "), ended " + (s.monotonicNanos() - shown.endNanos()) / 1000 + " µs before, called from "
          + function(s.caller()), function(s));
    } else {
      tally.wrong++;
      tally.wrongIn.merge(function(s), 1L, Long::sum);
      String what = shown != null ? " (request " + shown.request().traceId() + ")"
          : foreignSpans.contains(s.entry().get()) ? " (exported in a trace no request had: a traceparent not continued?)"
          : unexportedTraces.contains(s.entry().get().traceId()) ? " (another request's trace, of which no span came)" : " (no span the writer exported)";
      tally.bad(s, where + " showed " + s.entry().get() + what, function(s));
    }
  }

  /**
   * The signal trampoline runs on the interrupted g until the handler switches to gsignal: a
   * signal that interrupts a goroutine looks like its code, and one that interrupts execute's
   * switch-in like the scheduler, but both are the signal path.
   */
  private boolean onSignalPath(Sample s) {
    String f = function(s);
    return SIGNAL_PATH.stream().anyMatch(f::startsWith) || signalReturn.test(s.pc());
  }

  /**
   * In {@code runtime.execute}, or in what it calls before {@code m.curg} is set (the write
   * barrier of {@code mp.curg = gp} while the GC runs, {@code casgstatus}, ...).
   */
  private boolean inExecute(Sample s) {
    return LongStream.of(s.pc(), s.caller()).anyMatch(pc -> function(pc).equals("runtime.execute"));
  }

  private boolean showsEndedSpan(Sample s) {
    return s.entry().map(spansByContext::get).filter(span -> span.endedBefore(s.monotonicNanos())).isPresent();
  }

  private String function(Sample s) {
    return function(s.pc());
  }

  private String function(long pc) {
    return code.apply(pc).map(GoFunction::name).orElse("0x" + Long.toHexString(pc));
  }

  private Optional<Request> requestAt(long goid, long t) {
    NavigableMap<Long, Request> requests = requestsByGoroutine.get(goid);
    if (requests == null) {
      return Optional.empty();
    }
    Map.Entry<Long, Request> last = requests.floorEntry(t);
    return last != null && t <= last.getValue().endNanos() ? Optional.of(last.getValue()) : Optional.empty();
  }
}
