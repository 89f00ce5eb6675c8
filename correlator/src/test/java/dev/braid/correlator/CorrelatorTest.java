package dev.braid.correlator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.MonotonicClock;
import dev.braid.bpf.TraceContext;
import dev.braid.profiler.StackSample;
import dev.braid.tracer.SpanEvent;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The join of spans and samples, without a kernel. */
class CorrelatorTest {
  private static final int PID = 4242;
  private static final long SECOND = 1_000_000_000L;
  private static final TraceContext CTX = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8");
  private final MonotonicClock clock = MonotonicClock.measure();
  private final Correlator correlator =
      new Correlator(clock, pid -> new ProcessInfo(pid, "/srv/shop", "shop", "host"));

  private static SpanEvent.Started started(long t, TraceContext ctx, String parent) {
    return new SpanEvent.Started(PID, 7, 33, 1, t, ctx, parent, 1, SpanEvent.SpanKind.SERVER, "GET", "/checkout", false, "shop.example:8080", "1.1", "");
  }

  private static SpanEvent.Ended ended(long t, TraceContext ctx, long status) {
    return new SpanEvent.Ended(PID, 7, 33, t, ctx, status, SpanEvent.EndReason.FINISHED, "/checkout", "", false);
  }

  /** braid's span ended while an application span that started inside it was still open. */
  private static SpanEvent.Ended endedBeforeTheApplications(long t, TraceContext ctx) {
    return new SpanEvent.Ended(PID, 7, 33, t, ctx, 0, SpanEvent.EndReason.FINISHED, "", "", true);
  }

  private static StackSample sample(long t, Optional<TraceContext> ctx) {
    return new StackSample(PID, 7, t, 0, "shop", ctx, new long[] {0x401000}, new long[0], 0);
  }

  @Test
  void aSpanIsAssembledFromItsStartAndEnd() {
    correlator.onSpanEvent(started(1_000, CTX, "00f067aa0ba902b7"));
    correlator.onSpanEvent(ended(5_000, CTX, 201));
    CompletedSpan span = correlator.flush(10_000, false).spans().getFirst();
    assertThat(span.name()).isEqualTo("GET /checkout");
    assertThat(span.kind()).isEqualTo(SpanKind.SERVER);
    assertThat(span.context()).isEqualTo(CTX);
    assertThat(span.parentSpanId()).isEqualTo("00f067aa0ba902b7");
    assertThat(span.endEpochNanos() - span.startEpochNanos()).isEqualTo(4_000);
    assertThat(span.startEpochNanos()).isEqualTo(clock.toEpochNanos(1_000));
    assertThat(span.attributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(201);
    assertThat(span.attributes().get(AttributeKey.stringKey("http.route"))).isEqualTo("/checkout");
    assertThat(span.attributes().get(AttributeKey.stringKey("url.path"))).isEqualTo("/checkout");
    assertThat(span.status().getStatusCode()).isEqualTo(StatusCode.UNSET);
    assertThat(span.attributes().get(AttributeKey.stringKey("server.address"))).isEqualTo("shop.example");
    assertThat(span.attributes().get(AttributeKey.longKey("server.port"))).isEqualTo(8080);
  }

  /**
   * The application's server span for the request (otelhttp) replaces braid's: braid exports no
   * span for it, and every sample of braid's span, taken before, during or after, names the
   * application's instead, by its IDs.
   */
  @Test
  void theApplicationsServerSpanReplacesBraidsAndTakesItsSamples() {
    TraceContext app = new TraceContext(CTX.traceId(), "a1b2c3d4e5f60718");
    correlator.onSpanEvent(started(1_000, CTX, "00f067aa0ba902b7"));
    correlator.onSample(sample(2_000, Optional.of(CTX)), List.of()); // before the application's span started
    correlator.onSpanEvent(new SpanEvent.ApplicationServerSpan(PID, 7, 33, 3_000, app, CTX));
    correlator.onSpanEvent(ended(4_000, CTX, 200));
    correlator.onSample(sample(3_500, Optional.of(CTX)), List.of()); // drained after braid's span ended
    Batch b = correlator.flush(5_000, false);
    assertThat(b.spans()).isEmpty();
    assertThat(b.samples()).hasSize(2).allSatisfy(s -> {
      assertThat(s.context()).contains(app);
      assertThat(s.span()).isEmpty();
      assertThat(s.labels()).containsEntry("span_id", app.spanId()).doesNotContainKey("span_name");
    });
    assertThat(correlator.replacedSpans()).isEqualTo(1);
  }

  /** An application span that covered a client span of braid's, or a span braid does not know, replaces nothing. */
  @Test
  void onlyBraidsOpenServerSpanIsReplaced() {
    TraceContext app = new TraceContext(CTX.traceId(), "a1b2c3d4e5f60718");
    correlator.onSpanEvent(new SpanEvent.ApplicationServerSpan(PID, 7, 33, 500, app, CTX)); // before braid's span: not open
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSpanEvent(ended(2_000, CTX, 200));
    assertThat(correlator.flush(3_000, false).spans()).extracting(CompletedSpan::context).containsExactly(CTX);
    assertThat(correlator.replacedSpans()).isZero();
  }

  /**
   * otelgrpc ends its server span after the RPC's status went out, so after braid's span: braid's
   * waits for that verdict, and is replaced; its samples and channel links go with it.
   */
  @Test
  void anApplicationServerSpanThatEndsLastStillReplacesBraids() {
    TraceContext app = new TraceContext(CTX.traceId(), "a1b2c3d4e5f60718");
    correlator.onSpanEvent(started(1_000, CTX, "00f067aa0ba902b7"));
    correlator.onSample(sample(1_500, Optional.of(CTX)), List.of());
    correlator.onSpanEvent(endedBeforeTheApplications(2_000, CTX));
    assertThat(correlator.flush(2_500, false).spans()).as("braid's span waits for the application's verdict").isEmpty();
    correlator.tick();
    correlator.onSpanEvent(new SpanEvent.ApplicationServerSpan(PID, 7, 33, 3_000, app, CTX));
    Batch b = correlator.flush(4_000, false);
    assertThat(b.spans()).isEmpty();
    assertThat(b.samples()).singleElement().satisfies(s -> assertThat(s.context()).contains(app));
    assertThat(correlator.replacedSpans()).isEqualTo(1);
  }

  /** With no verdict within two drain cycles (an application span that is not a SERVER one), braid's span goes out. */
  @Test
  void braidsSpanGoesOutWhenNoApplicationServerSpanReplacesIt() {
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSample(sample(1_500, Optional.of(CTX)), List.of());
    correlator.onSpanEvent(endedBeforeTheApplications(2_000, CTX));
    correlator.tick();
    assertThat(correlator.flush(2_500, false).spans()).isEmpty();
    correlator.tick();
    Batch b = correlator.flush(3_000, false);
    assertThat(b.spans()).extracting(CompletedSpan::context).containsExactly(CTX);
    assertThat(b.samples()).singleElement().satisfies(s -> assertThat(s.span()).isPresent());
    assertThat(correlator.replacedSpans()).isZero();
  }

  @Test
  void theLastFlushReleasesSpansWaitingForAVerdict() {
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSpanEvent(endedBeforeTheApplications(2_000, CTX));
    assertThat(correlator.flush(3_000, true).spans()).extracting(CompletedSpan::context).containsExactly(CTX);
  }

  /**
   * --auto-sdk: a span of a program that uses the API alone goes out as the program set it, with
   * braid's IDs, and the samples that waited for it with it.
   */
  @Test
  void anApiSpanGoesOutWithTheSamplesThatWaitedForIt() {
    TraceContext api = new TraceContext(CTX.traceId(), "a1b2c3d4e5f60718");
    byte[] json = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"compute\"}]}]}]}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    correlator.onSample(sample(1_500, Optional.of(api)), List.of());
    correlator.onSpanEvent(new SpanEvent.ApiSpan(PID, 7, 33, 2_000, api, CTX.spanId(), 1_000, json.length, json));
    assertThat(correlator.completedSpans()).isEqualTo(1);
    Batch b = correlator.flush(3_000, false);
    assertThat(b.applicationSpans()).singleElement().satisfies(r -> {
      io.opentelemetry.proto.trace.v1.Span s = r.getScopeSpans(0).getSpans(0);
      assertThat(s.getName()).isEqualTo("compute");
      assertThat(java.util.HexFormat.of().formatHex(s.getParentSpanId().toByteArray())).isEqualTo(CTX.spanId());
    });
    assertThat(b.samples()).singleElement().satisfies(s -> assertThat(s.context()).contains(api));
    assertThat(correlator.apiSpans()).isEqualTo(1);
  }

  private static SpanEvent.ApiSpan apiSpan(long t, TraceContext span, String parent, String kind) {
    byte[] json = ("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"GET\",\"kind\":" + kind + "}]}]}]}")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return new SpanEvent.ApiSpan(PID, 7, 33, t, span, parent, t - 500, json.length, json);
  }

  private static String parentOf(io.opentelemetry.proto.trace.v1.ResourceSpans r) {
    return java.util.HexFormat.of().formatHex(r.getScopeSpans(0).getSpans(0).getParentSpanId().toByteArray());
  }

  /**
   * otelhttp on the API alone (--auto-sdk): its SERVER span, a child of braid's, replaces braid's
   * and takes its parent, whether braid's span is still open (HTTP) or ended first (gRPC); one
   * that comes after braid's span went out is counted.
   */
  @Test
  void anApiServerSpanReplacesBraidsAndTakesItsParent() {
    TraceContext api = new TraceContext(CTX.traceId(), "a1b2c3d4e5f60718");
    correlator.onSpanEvent(started(1_000, CTX, "00f067aa0ba902b7"));
    correlator.onSpanEvent(apiSpan(2_000, api, CTX.spanId(), "2"));
    correlator.onSpanEvent(ended(3_000, CTX, 200));
    Batch b = correlator.flush(4_000, false);
    assertThat(b.spans()).isEmpty();
    assertThat(b.applicationSpans()).singleElement().satisfies(r -> assertThat(parentOf(r)).isEqualTo("00f067aa0ba902b7"));

    TraceContext grpc = new TraceContext("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    TraceContext grpcApi = new TraceContext(grpc.traceId(), "c1b2c3d4e5f60719");
    correlator.onSpanEvent(started(5_000, grpc, ""));
    correlator.onSpanEvent(endedBeforeTheApplications(6_000, grpc));
    correlator.onSpanEvent(apiSpan(7_000, grpcApi, grpc.spanId(), "2"));
    b = correlator.flush(8_000, false);
    assertThat(b.spans()).isEmpty();
    assertThat(b.applicationSpans()).singleElement().satisfies(r -> assertThat(parentOf(r)).as("a root, as braid's was").isEmpty());
    assertThat(correlator.replacedSpans()).isEqualTo(2);

    TraceContext late = new TraceContext("1af7651916cd43dd8448eb211c80319c", "d7ad6b7169203331");
    correlator.onSpanEvent(started(9_000, late, ""));
    correlator.onSpanEvent(ended(10_000, late, 200));
    correlator.onSpanEvent(apiSpan(11_000, new TraceContext(late.traceId(), "e1b2c3d4e5f60710"), late.spanId(), "2"));
    assertThat(correlator.flush(12_000, false).spans()).hasSize(1);
    assertThat(correlator.lateVerdicts()).isEqualTo(1);
  }

  /**
   * A root span of the application's inside braid's span gives braid's a link to it; none, and no
   * count, when braid's span is replaced (otelhttp's root span, for a request without traceparent).
   */
  @Test
  void braidsSpanLinksToARootSpanOfTheApplicationsUnlessReplaced() {
    TraceContext root = new TraceContext("0af7651916cd43dd8448eb211c80319c", "a1b2c3d4e5f60718");
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSpanEvent(new SpanEvent.ApplicationRootSpan(PID, 7, 33, 1_500, root, CTX));
    correlator.onSpanEvent(ended(2_000, CTX, 200));
    assertThat(correlator.flush(3_000, false).spans()).singleElement()
        .satisfies(s -> assertThat(s.links()).singleElement().satisfies(l -> {
          assertThat(l.type()).isEqualTo(SpanLink.Type.APPLICATION_SPAN);
          assertThat(l.to()).isEqualTo(root);
        }));
    assertThat(correlator.applicationRootLinks()).isEqualTo(1);

    TraceContext other = new TraceContext("1af7651916cd43dd8448eb211c80319c", "b1b2c3d4e5f60718");
    correlator.onSpanEvent(started(4_000, other, ""));
    correlator.onSpanEvent(new SpanEvent.ApplicationRootSpan(PID, 7, 33, 4_500, root, other));
    correlator.onSpanEvent(new SpanEvent.ApplicationServerSpan(PID, 7, 33, 5_000, root, other));
    correlator.onSpanEvent(ended(6_000, other, 200));
    assertThat(correlator.flush(7_000, false).spans()).isEmpty();
    assertThat(correlator.applicationRootLinks()).isEqualTo(1);
    assertThat(correlator.replacedSpanLinks()).isZero();
  }

  /** A busy program's API spans go out in bounded early batches, as braid's do. */
  @Test
  void apiSpansGoOutInBoundedBatches() {
    for (int i = 0; i < 5; i++) {
      correlator.onSpanEvent(apiSpan(1_000 + i, new TraceContext(CTX.traceId(), String.format("%016x", i + 1)), "", "1"));
    }
    assertThat(correlator.completedSpans()).isEqualTo(5);
    assertThat(correlator.flushSpans(2_000, 3).applicationSpans()).hasSize(3);
    assertThat(correlator.completedSpans()).isEqualTo(2);
  }

  @Test
  void aHandlerThatWritesNothingAnswers200() {
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSpanEvent(ended(2_000, CTX, 0));
    assertThat(correlator.flush(3_000, false).spans().getFirst().attributes().get(AttributeKey.longKey("http.response.status_code")))
        .isEqualTo(200);
  }

  @Test
  void serverErrorsAreErrors() {
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSpanEvent(ended(2_000, CTX, 503));
    assertThat(correlator.flush(3_000, false).spans().getFirst().status().getStatusCode()).isEqualTo(StatusCode.ERROR);
  }

  @Test
  void aSampleWaitsForItsSpanToEndAndThenCarriesIt() {
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSample(sample(2_000, Optional.of(CTX)), List.of());
    assertThat(correlator.flush(3_000, false).samples()).isEmpty();
    correlator.onSpanEvent(ended(4_000, CTX, 200));
    ProfiledSample s = correlator.flush(5_000, false).samples().getFirst();
    assertThat(s.span()).isPresent();
    assertThat(s.labels()).containsEntry("trace_id", CTX.traceId()).containsEntry("span_id", CTX.spanId()).containsEntry("span_name", "GET /checkout");
    assertThat(s.epochNanos()).isEqualTo(clock.toEpochNanos(2_000));
  }

  @Test
  void anEndedSpanStaysKnownForTheNextDrainCycle() {
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSpanEvent(ended(2_000, CTX, 200));
    correlator.tick();
    // A sample a CPU was still writing when the span ring buffer was drained arrives a cycle later.
    correlator.onSample(sample(1_500, Optional.of(CTX)), List.of());
    assertThat(correlator.flush(4_000, false).samples().getFirst().span()).isPresent();
    correlator.tick();
    correlator.tick();
    // Two cycles on, the span is forgotten: a straggler goes out with IDs only, after its wait.
    correlator.onSample(sample(1_600, Optional.of(CTX)), List.of());
    assertThat(correlator.flush(SECOND, false).samples()).isEmpty();
    assertThat(correlator.flush(3 * SECOND, false).samples().getFirst().labels()).containsOnlyKeys("trace_id", "span_id");
  }

  @Test
  void aSampleDrainedBeforeItsSpansStartWaitsForIt() {
    // The sample ring buffer was read before the span ring buffer had the start.
    correlator.onSample(sample(2_000, Optional.of(CTX)), List.of());
    assertThat(correlator.flush(3_000, false).samples()).isEmpty();
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSpanEvent(ended(4_000, CTX, 200));
    assertThat(correlator.flush(5_000, false).samples().getFirst().labels()).containsEntry("span_name", "GET /checkout");
  }

  @Test
  void aSampleOutsideSpansHasNoLabels() {
    correlator.onSample(sample(2_000, Optional.empty()), List.of());
    ProfiledSample s = correlator.flush(3_000, false).samples().getFirst();
    assertThat(s.labels()).isEmpty();
    assertThat(s.span()).isEmpty();
  }

  @Test
  void aSpanOfAnotherWriterGivesIdsOnlyOnceItCannotBeOurs() {
    correlator.onSample(sample(2_000, Optional.of(CTX)), List.of());
    assertThat(correlator.flush(SECOND, false).samples()).isEmpty();
    ProfiledSample s = correlator.flush(3 * SECOND, false).samples().getFirst();
    assertThat(s.labels()).containsOnlyKeys("trace_id", "span_id");
  }

  @Test
  void theLastFlushEndsOpenSpansAndLetsEverythingOut() {
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSample(sample(2_000, Optional.of(CTX)), List.of());
    Batch last = correlator.flush(9_000, true);
    assertThat(last.last()).isTrue();
    assertThat(last.spans()).singleElement().satisfies(s -> {
      assertThat(s.endEpochNanos()).isEqualTo(clock.toEpochNanos(9_000));
      assertThat(s.attributes().get(AttributeKey.stringKey("braid.span.end_reason"))).isEqualTo("finished_by_braid");
    });
    assertThat(last.samples()).singleElement().satisfies(s -> assertThat(s.span()).isPresent());
    assertThat(correlator.openSpans()).isZero();
  }

  @Test
  void aProcessThatExitsEndsItsSpansAsErrors() {
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.processExited(PID, 3_000);
    CompletedSpan span = correlator.flush(4_000, false).spans().getFirst();
    assertThat(span.status().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(span.attributes().get(AttributeKey.stringKey("braid.span.end_reason"))).isEqualTo("process_exited");
  }

  @Test
  void anEndWithoutAStartIsCounted() {
    correlator.onSpanEvent(ended(2_000, CTX, 200));
    assertThat(correlator.flush(3_000, false).spans()).isEmpty();
    assertThat(correlator.unmatchedEnds()).isEqualTo(1);
  }

  /** The span ring buffer was full when the first request ended: its goroutine's next request tells. */
  @Test
  void aServerSpanWhoseEndWasLostEndsWhenItsGoroutineBeginsTheNext() {
    TraceContext next = new TraceContext("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSpanEvent(started(9_000, next, ""));
    correlator.onSpanEvent(ended(12_000, next, 200));
    correlator.tick();
    assertThat(correlator.lostEnds()).as("its end may still come, kept aside by the probes").isZero();
    correlator.tick();
    List<CompletedSpan> spans = correlator.flush(20_000, false).spans();
    assertThat(spans).extracting(CompletedSpan::context).containsExactlyInAnyOrder(CTX, next);
    CompletedSpan lost = spans.stream().filter(s -> s.context().equals(CTX)).findFirst().orElseThrow();
    assertThat(lost.endEpochNanos()).isEqualTo(clock.toEpochNanos(9_000));
    assertThat(lost.attributes().get(CompletedSpan.END_REASON)).isEqualTo("end_lost");
    assertThat(correlator.lostEnds()).isEqualTo(1);
    assertThat(correlator.openSpans()).isZero();
  }

  /** The end the probes kept aside while the ring buffer was full comes a drain cycle late, and wins. */
  @Test
  void aKeptEndThatComesADrainCycleLateEndsItsSpanExactly() {
    TraceContext next = new TraceContext("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    correlator.onSpanEvent(started(1_000, CTX, ""));
    correlator.onSpanEvent(started(9_000, next, ""));
    correlator.tick();
    correlator.onSpanEvent(ended(5_000, CTX, 200));
    correlator.tick();
    CompletedSpan span = correlator.flush(20_000, false).spans().getFirst();
    assertThat(span.context()).isEqualTo(CTX);
    assertThat(span.endEpochNanos()).isEqualTo(clock.toEpochNanos(5_000));
    assertThat(span.attributes().get(CompletedSpan.END_REASON)).isNull();
    assertThat(correlator.lostEnds()).isZero();
    assertThat(correlator.unmatchedEnds()).isZero();
  }

  /** More open spans than braid keeps (ends lost beyond what the probes kept aside): the oldest go out, counted. */
  @Test
  void openSpansBeyondTheBoundAreEndedOldestFirstAndCounted() {
    int over = 10;
    for (int i = 0; i < Correlator.MAX_OPEN_SPANS + over; i++) {
      TraceContext ctx = new TraceContext(String.format("%032x", i + 1L), String.format("%016x", i + 1L));
      correlator.onSpanEvent(new SpanEvent.Started(PID, 7, 100 + i, 1, 1_000 + i, ctx, "", 1, SpanEvent.SpanKind.SERVER, "GET", "/checkout", false, "", "1.1", ""));
    }
    List<CompletedSpan> out = correlator.flush(10 * SECOND, false).spans();
    assertThat(correlator.openSpans()).isEqualTo(Correlator.MAX_OPEN_SPANS);
    assertThat(correlator.expiredSpans()).isEqualTo(over);
    assertThat(out).hasSize(over).allSatisfy(span -> assertThat(span.attributes().get(CompletedSpan.END_REASON)).isEqualTo("finished_by_braid"));
    assertThat(out).extracting(span -> span.context().span()).containsExactlyInAnyOrder(java.util.stream.LongStream.rangeClosed(1, over).boxed().toArray(Long[]::new));
  }
}
