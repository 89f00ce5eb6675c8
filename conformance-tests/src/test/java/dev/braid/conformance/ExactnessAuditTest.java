package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.MonotonicClock;
import dev.braid.bpf.TraceContext;
import dev.braid.conformance.ContextAuditor.Running;
import dev.braid.conformance.ContextAuditor.Sample;
import dev.braid.conformance.ExactnessAudit.Request;
import dev.braid.conformance.OtlpReceiver.ExportedSpan;
import dev.braid.elf.go.GoFunction;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The audit's rules, one sample each, on two requests whose spans the writer exported. */
class ExactnessAuditTest {
  private static final String PARENT = "b7ad6b7169203331";
  private static final long MS = 1_000_000;
  private static final long EXECUTE_PC = 0x1000;
  private static final GoFunction EXECUTE = new GoFunction("runtime.execute", EXECUTE_PC, EXECUTE_PC + 0x100);
  private static final long SIGTRAMP_PC = 0x2000;
  private static final GoFunction SIGTRAMP = new GoFunction("runtime.cgoSigtramp", SIGTRAMP_PC, SIGTRAMP_PC + 0x100);
  private static final TraceContext FIRST = new TraceContext("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7");
  private static final TraceContext SECOND = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8");

  private final MonotonicClock clock = MonotonicClock.measure();
  // Handlers ran 1–2 ms on goroutine 7 and 3–4 ms on goroutine 8; the writer's spans reach 0.1 ms beyond.
  private final ExactnessAudit audit = new ExactnessAudit(
      List.of(new Request(7, FIRST.traceId(), 1 * MS, 2 * MS), new Request(8, SECOND.traceId(), 3 * MS, 4 * MS)), 0,
      List.of(span(FIRST, 900_000, 2_100_000), span(SECOND, 2_900_000, 4_100_000),
          new ExportedSpan(FIRST.traceId(), "1111111111111111", FIRST.spanId(), SpanKind.SPAN_KIND_INTERNAL, 0, 0)),
      clock, pc -> Optional.of(EXECUTE).filter(f -> f.contains(pc)).or(() -> Optional.of(SIGTRAMP).filter(f -> f.contains(pc))));

  private ExportedSpan span(TraceContext c, long startMono, long endMono) {
    return new ExportedSpan(c.traceId(), c.spanId(), PARENT, SpanKind.SPAN_KIND_SERVER, clock.toEpochNanos(startMono), clock.toEpochNanos(endMono));
  }

  private void judge(Running running, long goid, long time, TraceContext entry) {
    judge(running, goid, time, entry, 0x9999);
  }

  private void judge(Running running, long goid, long time, TraceContext entry, long pc) {
    judge(running, goid, time, entry, pc, 0);
  }

  private void judge(Running running, long goid, long time, TraceContext entry, long pc, long caller) {
    audit.judge(new Sample(1, 2, time, goid, pc, caller, running, Optional.ofNullable(entry)));
  }

  @Test
  void insideAHandlerTheEntryMustBeItsRequestsSpan() {
    judge(Running.GOROUTINE, 7, 1_500_000, FIRST); // right
    judge(Running.GOROUTINE, 7, 1_600_000, null); // missing
    judge(Running.GOROUTINE, 7, 1_700_000, SECOND); // another request's, not ended: wrong
    judge(Running.GOROUTINE, 8, 3_500_000, FIRST); // a request that ended 1.4 ms before: stale
    assertThat(List.of(audit.inRequests.right, audit.inRequests.missing, audit.inRequests.wrong, audit.inRequests.stale)).containsExactly(1L, 1L, 1L, 1L);
    assertThat(audit.elsewhere.judged()).isZero();
  }

  @Test
  void elsewhereOnlyNothingOrTheGoroutinesOwnSpanAroundItsHandler() {
    judge(Running.GOROUTINE, 7, 950_000, FIRST); // before the handler, inside the writer's span: right
    judge(Running.GOROUTINE, 7, 2_500_000, null); // between requests, nothing: right
    judge(Running.GOROUTINE, 9, 1_500_000, FIRST); // another goroutine showing it: wrong
    judge(Running.SCHEDULER, 0, 1_500_000, FIRST); // the scheduler showing a running span: wrong
    judge(Running.SCHEDULER, 0, 5 * MS, SECOND); // ended 0.9 ms before: stale
    judge(Running.GOROUTINE, 7, 2_300_000, FIRST); // its own, but 0.2 ms after the span ended: slack is 0.25 ms, so right
    judge(Running.GOROUTINE, 7, 2_400_000, FIRST); // 0.3 ms after: stale
    assertThat(List.of(audit.elsewhere.right, audit.elsewhere.wrong, audit.elsewhere.stale, audit.elsewhere.missing)).containsExactly(3L, 2L, 2L, 0L);
    assertThat(audit.elsewhere.examples).hasSize(3).first().asString().contains("no request showed", "goroutine 9");
  }

  @Test
  void switchingInAndTheSystemStackAreNotJudgedUnlessTheSpanEnded() {
    TraceContext unknown = new TraceContext("11111111111111111111111111111111", "2222222222222222");
    judge(Running.SCHEDULER, 0, 3_500_000, SECOND, EXECUTE_PC + 8); // execute, before m.curg is set: a span that lasts
    judge(Running.SCHEDULER, 0, 5 * MS, SECOND, EXECUTE_PC + 8); // but never a span that ended: stale
    judge(Running.SCHEDULER, 0, 3_500_000, unknown, EXECUTE_PC + 8); // nor one nobody exported: wrong
    judge(Running.SCHEDULER, 0, 3_500_000, SECOND, 0x9999, EXECUTE_PC + 0x40); // the write barrier of mp.curg = gp, called by execute
    judge(Running.SCHEDULER, 0, 3_500_000, SECOND, 0x9999, 0x8888); // the same code called by other scheduler code: wrong
    judge(Running.SYSTEM_STACK, 7, 1_500_000, SECOND); // not judged
    judge(Running.SYSTEM_STACK, 7, 5 * MS, FIRST); // unless it shows a span that ended: stale
    judge(Running.UNKNOWN, 0, 1_500_000, SECOND);
    judge(Running.SCHEDULER, 0, 3_500_000, SECOND, SIGTRAMP_PC + 4); // a signal on g0 before the switch to gsignal: the signal path
    judge(Running.SCHEDULER, 0, 5 * MS, FIRST, SIGTRAMP_PC + 4); // which may not show an ended span either: stale
    judge(Running.GOROUTINE, 7, 1_500_000, SECOND, SIGTRAMP_PC + 4); // a signal on a handler's goroutine: the signal path too
    assertThat(List.of(audit.switchingIn, audit.onSystemStack, audit.unknownThread, audit.elsewhere.stale, audit.elsewhere.wrong))
        .containsExactly(2L, 3L, 1L, 3L, 2L);
    assertThat(audit.inRequests.judged()).isZero();
  }

  /**
   * A cgo program's signal handlers return through the C library's trampoline, on g0 when the
   * signal came in the scheduler (as a probe's trap returned into runtime.execute): the signal
   * path, not judged unless the span ended.
   */
  @Test
  void theCLibrarysSignalReturnIsOnTheSignalPath() {
    long restorer = 0x7f3f_b425_9059L;
    ExactnessAudit cgo = new ExactnessAudit(List.of(new Request(8, SECOND.traceId(), 3 * MS, 4 * MS)), 0,
        List.of(span(SECOND, 2_900_000, 4_100_000)), clock, pc -> Optional.empty(), pc -> pc == restorer);
    cgo.judge(new Sample(1, 2, 3_500_000, 0, restorer, 0, Running.SCHEDULER, Optional.of(SECOND))); // a span that lasts: not judged
    cgo.judge(new Sample(1, 2, 3_500_000, 0, restorer + 0x100, 0, Running.SCHEDULER, Optional.of(SECOND))); // other native code: wrong
    cgo.judge(new Sample(1, 2, 5 * MS, 0, restorer, 0, Running.SCHEDULER, Optional.of(SECOND))); // never one that ended: stale
    assertThat(List.of(cgo.onSystemStack, cgo.elsewhere.wrong, cgo.elsewhere.stale)).containsExactly(1L, 1L, 1L);
  }

  /**
   * A writer that stamps a span nested in its server span (OBI's "processing" span, or an
   * application's own): any span of the request's trace is right while it lasts; the innermost
   * one is counted.
   */
  @Test
  void aNestedSpanOfTheRequestIsRightWhileItLasts() {
    TraceContext nested = new TraceContext(FIRST.traceId(), "3333333333333333");
    // The handler ran 1–3 ms, the server span 0.9–3.1 ms, the nested span 1.2–1.8 ms.
    ExactnessAudit withNested = new ExactnessAudit(List.of(new Request(7, FIRST.traceId(), 1 * MS, 3 * MS)), 0,
        List.of(span(FIRST, 900_000, 3_100_000), new ExportedSpan(FIRST.traceId(), nested.spanId(), FIRST.spanId(), SpanKind.SPAN_KIND_INTERNAL,
            clock.toEpochNanos(1_200_000), clock.toEpochNanos(1_800_000))), clock, pc -> Optional.empty());
    withNested.judge(new Sample(1, 2, 1_500_000, 7, 0, 0, Running.GOROUTINE, Optional.of(nested))); // right, innermost
    withNested.judge(new Sample(1, 2, 1_500_000, 7, 0, 0, Running.GOROUTINE, Optional.of(FIRST))); // right, not the innermost (0.3 ms from its edges)
    withNested.judge(new Sample(1, 2, 2_500_000, 7, 0, 0, Running.GOROUTINE, Optional.of(nested))); // ended 0.7 ms before: stale
    withNested.judge(new Sample(1, 2, 3_050_000, 7, 0, 0, Running.GOROUTINE, Optional.of(nested))); // after the handler, ended: stale
    assertThat(List.of(withNested.inRequests.right, withNested.inRequests.innermost, withNested.inRequests.stale, withNested.elsewhere.stale))
        .containsExactly(2L, 1L, 1L, 1L);
  }

  @Test
  void requestsWithoutAnExportedSpanAreCountedNotJudged() {
    // The second request ended before the audit began to sample (at 2.5 ms): not counted.
    ExactnessAudit unexported = new ExactnessAudit(List.of(new Request(7, FIRST.traceId(), 3 * MS, 4 * MS), new Request(8, SECOND.traceId(), MS, 2 * MS)),
        2_500_000, List.of(), clock, pc -> Optional.empty());
    unexported.judge(new Sample(1, 2, 3_500_000, 7, 0, 0, Running.GOROUTINE, Optional.of(FIRST))); // inside its handler
    unexported.judge(new Sample(1, 2, 4_050_000, 7, 0, 0, Running.GOROUTINE, Optional.of(FIRST))); // after it, showing its span
    assertThat(List.of(unexported.requestsInWindow, unexported.requestsUnexported, unexported.samplesOfUnexported, unexported.inRequests.judged(),
        unexported.elsewhere.judged())).containsExactly(1L, 1L, 2L, 0L, 0L);
  }

  /** A writer that did not continue a request's traceparent exports its span in a trace of its own: a sample showing it says so. */
  @Test
  void aSpanInATraceOfNoRequestIsWrongAndSaysWhy() {
    TraceContext foreign = new TraceContext("99999999999999999999999999999999", "8888888888888888");
    ExactnessAudit lost = new ExactnessAudit(List.of(new Request(7, FIRST.traceId(), MS, 2 * MS)), 0,
        List.of(span(FIRST, 900_000, 2_100_000), new ExportedSpan(foreign.traceId(), foreign.spanId(), "", SpanKind.SPAN_KIND_SERVER,
            clock.toEpochNanos(900_000), clock.toEpochNanos(2_100_000))), clock, pc -> Optional.empty());
    lost.judge(new Sample(1, 2, 1_500_000, 7, 0, 0, Running.GOROUTINE, Optional.of(foreign)));
    assertThat(lost.inRequests.wrong).isEqualTo(1);
    assertThat(lost.inRequests.examples).singleElement().asString().contains("a trace no request had");
  }

  /**
   * The writer turned its timestamps into epoch time with an offset of its own, 52 ms from the
   * suite's, and its wall clock drifts 5 ms a second (as measured on a CI host): each span is
   * judged by the offset fitted around its request, not by the suite's.
   */
  @Test
  void aWriterWhoseWallClockDriftedIsJudgedByItsOwnClock() {
    List<Request> requests = new java.util.ArrayList<>();
    List<ExportedSpan> spans = new java.util.ArrayList<>();
    for (int i = 0; i < 200; i++) {
      long start = 10 * MS + i * 5 * MS;
      String traceId = String.format("%032x", i + 1);
      requests.add(new Request(100 + i, traceId, start, start + MS));
      long writerOffset = 52 * MS + start / 200; // 5 ms a second
      spans.add(new ExportedSpan(traceId, "00f067aa0ba902b7", PARENT, SpanKind.SPAN_KIND_SERVER,
          clock.toEpochNanos(start - 100_000) + writerOffset, clock.toEpochNanos(start + MS + 100_000) + writerOffset));
    }
    ExactnessAudit drifted = new ExactnessAudit(requests, 0, spans, clock, pc -> Optional.empty());
    TraceContext hundredth = new TraceContext(requests.get(100).traceId(), "00f067aa0ba902b7");
    long start = requests.get(100).startNanos();
    drifted.judge(new Sample(1, 2, start + MS / 2, 200, 0, 0, Running.GOROUTINE, Optional.of(hundredth))); // inside: right
    drifted.judge(new Sample(1, 2, start + MS + 400_000, 200, 0, 0, Running.GOROUTINE, Optional.of(hundredth))); // 0.3 ms after its span: stale
    assertThat(List.of(drifted.inRequests.right, drifted.elsewhere.stale)).containsExactly(1L, 1L);
    assertThat(drifted.clockSkewMicros).isBetween(54_000L, 54_600L);
  }
}
