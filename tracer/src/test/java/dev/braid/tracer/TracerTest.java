package dev.braid.tracer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.TracesContextMap;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.bpf.testing.Wait;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The writer against a real Go service on the real kernel. */
@Tag("kernel")
class TracerTest {
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String PARENT_ID = "00f067aa0ba902b7";

  private final List<SpanEvent> events = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private PinRoot pins;
  private ExampleService shop;
  private Tracer tracer;

  @BeforeEach
  void start() {
    Kernel.requireBpf();
    pins = PinRoot.create();
    tracer = Tracer.start(pins.path(), false, events::add);
    tracer.instrument(GoProgram.inspect(Examples.binary("shop")));
    shop = ExampleService.start(Examples.binary("shop"), "-addr", "127.0.0.1:0");
  }

  @AfterEach
  void stop() {
    if (shop != null) {
      shop.close();
    }
    if (tracer != null) {
      tracer.close();
    }
    if (pins != null) {
      pins.close();
    }
  }

  @Test
  void aRequestWithTraceparentContinuesThatTrace() throws Exception {
    int status = get("/checkout?ms=1", Optional.of("00-" + TRACE_ID + "-" + PARENT_ID + "-01"));
    assertThat(status).isEqualTo(200);
    tracer.drain();

    SpanEvent.Started start = only(SpanEvent.Started.class);
    assertThat(start.pid()).isEqualTo(shop.pid());
    assertThat(start.context().traceId()).isEqualTo(TRACE_ID);
    assertThat(start.parentSpanId()).isEqualTo(PARENT_ID);
    assertThat(start.context().spanId()).isNotEqualTo(PARENT_ID).isNotEqualTo("0000000000000000");
    assertThat(start.traceFlags()).isEqualTo(1);
    assertThat(start.kind()).isEqualTo(SpanEvent.SpanKind.SERVER);
    assertThat(start.method()).isEqualTo("GET");
    assertThat(start.path()).isEqualTo("/checkout");

    SpanEvent.Ended end = only(SpanEvent.Ended.class);
    assertThat(end.context()).isEqualTo(start.context());
    assertThat(end.goid()).isEqualTo(start.goid());
    assertThat(end.statusCode()).isEqualTo(200);
    assertThat(end.route()).isEqualTo("/checkout");
    assertThat(end.reason()).isEqualTo(SpanEvent.EndReason.FINISHED);
    assertThat(end.monotonicNanos()).isGreaterThan(start.monotonicNanos());
  }

  @Test
  void aRequestWithoutTraceparentStartsANewTrace() throws Exception {
    get("/search?ms=1", Optional.empty());
    get("/search?ms=1", Optional.empty());
    tracer.drain();
    List<SpanEvent.Started> starts = all(SpanEvent.Started.class);
    assertThat(starts).hasSize(2);
    assertThat(starts).allSatisfy(s -> assertThat(s.parentSpanId()).isEmpty());
    assertThat(starts).allSatisfy(s -> assertThat(s.context().isValid()).isTrue());
    assertThat(starts.get(0).context().traceId()).isNotEqualTo(starts.get(1).context().traceId());
  }

  @Test
  void anInvalidTraceparentIsIgnored() throws Exception {
    // Upper-case hex and version ff are both invalid in W3C Trace Context.
    get("/search?ms=1", Optional.of("00-" + TRACE_ID.toUpperCase() + "-" + PARENT_ID + "-01"));
    get("/search?ms=1", Optional.of("ff-" + TRACE_ID + "-" + PARENT_ID + "-01"));
    tracer.drain();
    assertThat(all(SpanEvent.Started.class))
        .hasSize(2)
        .allSatisfy(
            s -> {
              assertThat(s.parentSpanId()).isEmpty();
              assertThat(s.context().traceId()).isNotEqualToIgnoringCase(TRACE_ID);
            });
  }

  @Test
  void theStatusTheHandlerSetIsReported() throws Exception {
    assertThat(get("/fail", Optional.empty())).isEqualTo(500);
    tracer.drain();
    assertThat(only(SpanEvent.Ended.class).statusCode()).isEqualTo(500);
  }

  @Test
  void theHandlingThreadShowsTheSpanOnlyWhileItRuns() throws Exception {
    BpfMap map = tracer.tracesContextMap();
    CompletableFuture<HttpResponse<String>> held =
        http.sendAsync(request("/hold?key=shows", Optional.of("00-" + TRACE_ID + "-" + PARENT_ID + "-01")), HttpResponse.BodyHandlers.ofString());
    // While the handler burns CPU (until released), one thread of the service carries the request's trace.
    List<TraceContext> seen = new ArrayList<>();
    Wait.until(Duration.ofSeconds(30), Duration.ofMillis(5), () -> seen.addAll(entriesOf(map, shop.pid()).stream().filter(c -> c.traceId().equals(TRACE_ID)).toList()));
    assertThat(seen).as("a traces_ctx_v1 entry of the shop carrying the trace").isNotEmpty();
    assertThat(get("/release?key=shows", Optional.empty())).isEqualTo(200);
    assertThat(held.get().statusCode()).isEqualTo(200);
    tracer.drain();
    assertThat(seen.getFirst()).isEqualTo(all(SpanEvent.Started.class).stream().filter(e -> e.path().equals("/hold")).findFirst().orElseThrow().context());
    // Once the request is done, no thread of the shop carries it any more.
    assertThat(entriesOf(map, shop.pid())).noneMatch(c -> c.traceId().equals(TRACE_ID));
  }

  @Test
  void closeLeavesNoEntryOfTheTracedProcessInThePin() throws Exception {
    CompletableFuture<HttpResponse<String>> held = http.sendAsync(request("/hold?key=close", Optional.empty()), HttpResponse.BodyHandlers.ofString());
    BpfMap map = tracer.tracesContextMap();
    assertThat(Wait.until(Duration.ofSeconds(30), Duration.ofMillis(5), () -> !entriesOf(map, shop.pid()).isEmpty())).as("an entry of the request in flight").isTrue();
    tracer.close();
    try (BpfMap pinned = TracesContextMap.openPinned(pins.path()).orElseThrow()) {
      assertThat(entriesOf(pinned, shop.pid())).isEmpty();
    }
    assertThat(held).as("the held request, when the tracer closed").isNotDone();
    assertThat(get("/release?key=close", Optional.empty())).isEqualTo(200);
    assertThat(held.get().statusCode()).isEqualTo(200); // the service never noticed
  }

  @Test
  void aHandlerThatPanicsEndsItsSpanWhenItsGoroutineExits() throws Exception {
    try {
      get("/panic", Optional.of("00-" + TRACE_ID + "-" + PARENT_ID + "-01"));
    } catch (java.io.IOException e) {
      // net/http closes the connection without an answer
    }
    // Java's client tries an idempotent GET once more when the connection closes unanswered.
    Wait.until(Duration.ofSeconds(30), Duration.ofMillis(20), () -> {
      tracer.drain();
      return !events.isEmpty() && all(SpanEvent.Ended.class).size() == all(SpanEvent.Started.class).size();
    });
    List<SpanEvent.Started> starts = all(SpanEvent.Started.class);
    assertThat(starts).isNotEmpty().allSatisfy(s -> assertThat(s.path()).isEqualTo("/panic"));
    assertThat(all(SpanEvent.Ended.class))
        .extracting(SpanEvent.Ended::context)
        .containsExactlyInAnyOrderElementsOf(starts.stream().map(SpanEvent.Started::context).toList());
    assertThat(all(SpanEvent.Ended.class)).allSatisfy(e -> assertThat(e.reason()).isEqualTo(SpanEvent.EndReason.GOROUTINE_EXITED));
    assertThat(tracer.entriesOf(shop.pid())).as("state left of the dead goroutines").isZero();
  }

  private static List<TraceContext> entriesOf(BpfMap map, int pid) {
    List<TraceContext> found = new ArrayList<>();
    for (byte[] key : map.keys()) {
      if (TracesContextMap.keyValue(key) >>> 32 == pid) {
        map.lookup(key).map(TraceContext::fromBytes).ifPresent(found::add);
      }
    }
    return found;
  }

  private int get(String path, Optional<String> traceparent) throws Exception {
    return http.send(request(path, traceparent), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private HttpRequest request(String path, Optional<String> traceparent) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(shop.url() + path));
    traceparent.ifPresent(t -> b.header("traceparent", t));
    return b.build();
  }

  private <T extends SpanEvent> List<T> all(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private <T extends SpanEvent> T only(Class<T> type) {
    List<T> found = all(type);
    assertThat(found).as(type.getSimpleName() + " events").hasSize(1);
    return found.getFirst();
  }
}
