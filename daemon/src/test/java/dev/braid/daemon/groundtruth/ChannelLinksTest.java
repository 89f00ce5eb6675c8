package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.SpanLink;
import dev.braid.examples.Examples;
import io.opentelemetry.api.trace.SpanKind;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Channel links against ground truth. A /dispatch request sends its trace id over a channel, and
 * the /receive request that gets it answers with that id: the load generator's record says which
 * request handed a value to which. Every such hand-off must give exactly one reciprocal pair of
 * links between those two server spans, and no span may hold any other link.
 */
@Tag("kernel")
class ChannelLinksTest {
  private static final Duration LOAD = Duration.ofSeconds(4);

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  /** A dispatcher sleeps first: the receiver is parked on the channel when the send comes. */
  @Test
  void unbufferedWithTheReceiverWaiting() {
    TracedRun run = handOffs("unbuffered", "&wait=1", "", 4, Goal.handOffs(200));
    List<SpanLink> links = exactPairs(run, 200);
    assertThat(links).allSatisfy(l -> assertThat(l.buffered()).isFalse()).allSatisfy(l -> assertThat(l.capacity()).isZero());
  }

  /** A receiver sleeps first: the sender is parked, and the receive copies from it. */
  @Test
  void unbufferedWithTheSenderWaiting() {
    TracedRun run = handOffs("unbuffered", "", "&wait=1", 4, Goal.handOffs(200));
    exactPairs(run, 200);
  }

  /**
   * Capacity 3 and slow receivers: values wait in slots that wrap around many times, senders
   * block on a full buffer (a receive then refills the slot it empties), and a dispatch span ends
   * before its value is received: its export waits for the receiver.
   */
  @Test
  void bufferedThroughSlotsThatWrapAround() {
    TracedRun run = handOffs("buffered", "", "&wait=2", 6,
        Goal.handOffs(200).and(Goal.handOffs(100, "buffered", SpanLink::buffered)).and(A_DISPATCH_ENDED_BEFORE_ITS_RECEIVE));
    List<SpanLink> links = exactPairs(run, 200);
    assertThat(links).allSatisfy(l -> assertThat(l.capacity()).isEqualTo(3));
    Figures.atLeast("links of values that waited in the buffer", links.stream().filter(SpanLink::buffered).count(), 2 * 100);
    CompletedSpan early = endedBeforeItsValueWasReceived(run);
    assertThat(early.links()).as("links of a dispatch that ended before its receive").hasSize(1);
  }

  /** Blocking selects on both sides, over an unbuffered and a buffered channel. */
  @Test
  void selectOnBothSides() {
    TracedRun run = handOffs("select", "&wait=1", "", 4, Goal.handOffs(200).and(Goal.handOffs(1, "unbuffered", l -> l.capacity() == 0))
        .and(Goal.handOffs(1, "buffered", l -> l.capacity() == 2)));
    List<SpanLink> links = exactPairs(run, 200);
    assertThat(links).allSatisfy(l -> assertThat(l.select()).as("%s", l).isTrue());
    assertThat(links).extracting(SpanLink::capacity).contains(0L, 2L);
  }

  /** The sender polls a non-blocking select; the receiver blocks in one. */
  @Test
  void nonBlockingSelectSends() {
    exactPairs(handOffs("select-nb-send", "&wait=1", "", 4, Goal.handOffs(100)), 100);
  }

  /** The receiver polls a non-blocking select; the sender blocks in one. */
  @Test
  void nonBlockingSelectReceives() {
    exactPairs(handOffs("select-nb-recv", "&wait=1", "", 4, Goal.handOffs(100)), 100);
  }

  /** Senders come late, so several receivers wait on the channel at once: each gets its own sender. */
  @Test
  void manyReceiversWaitingAtOnce() {
    TracedRun run = handOffs("unbuffered", "&wait=4", "", 10, Goal.handOffs(200));
    exactPairs(run, 200);
  }

  /**
   * Hand-offs where one side has no span: a background goroutine feeding a handler, and a worker
   * pool serving handlers; and tokens of a chan struct{} semaphore that handlers pass on to each
   * other, which carry no work. No link at all, and no span waits for a receiver.
   */
  @Test
  void noLinkWhenOneSideHasNoSpanOrNoValueIsHandedOver() {
    TracedRun.Service shop = TracedRun.Service.shop(Examples.binary("shop"));
    TracedRun run =
        TracedRun.run(List.of(shop), new TracedRun.Load("shop", "/wait/chan?ms=1,/pool?items=120,/limited?ms=1", LOAD, 4)
            .until(Goal.serverSpans("/limited", 100)), UnaryOperator.identity());
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    Figures.atLeast("/limited requests", run.sent().stream().filter(r -> r.get("route").asText().equals("/limited")).count(), 100);
    assertThat(run.spans()).allSatisfy(s -> assertThat(s.links()).as("links of %s", s.name()).isEmpty());
    assertThat(run.metrics().get("braid.links").counter().count()).isZero();
    assertThat(run.metrics().get("braid.spans.released.unlinked").counter().count()).isZero();
  }

  private static TracedRun handOffs(String via, String dispatchArgs, String receiveArgs, int concurrency, Goal goal) {
    TracedRun.Service shop = TracedRun.Service.shop(Examples.binary("shop"));
    String routes = "/dispatch?via=" + via + dispatchArgs + ",/receive?via=" + via + receiveArgs;
    return TracedRun.run(List.of(shop), new TracedRun.Load("shop", routes, LOAD, concurrency, "X-Handed-From").until(goal), UnaryOperator.identity());
  }

  /** A dispatch span that ended before the span of the receive that took its value started. */
  private static final Goal A_DISPATCH_ENDED_BEFORE_ITS_RECEIVE = Goal.onBatches("a dispatch that ended before its value was received", batches -> {
    Map<TraceContext, CompletedSpan> byContext = new HashMap<>();
    batches.stream().flatMap(b -> b.spans().stream()).forEach(s -> byContext.put(s.context(), s));
    return byContext.values().stream().anyMatch(d -> d.links().stream().filter(l -> l.side() == SpanLink.Side.SENDER)
        .map(l -> byContext.get(l.to())).anyMatch(r -> r != null && d.endEpochNanos() < r.startEpochNanos()));
  });

  /**
   * Each (dispatch, receive) pair of the ground truth has exactly one link on each span, to the
   * other, with the right side; no span has another link. Returns every link.
   */
  static List<SpanLink> exactPairs(TracedRun run, int atLeast) {
    Attribution.everyRequestIsOneServerSpanOfItsTrace(run);
    Map<String, CompletedSpan> byTrace = new HashMap<>();
    run.spans().stream().filter(s -> s.kind() == SpanKind.SERVER).forEach(s -> byTrace.put(s.context().traceId(), s));
    Set<String> handedOff = new HashSet<>(); // "dispatch trace>receive trace"
    for (JsonNode r : run.sent()) {
      String from = r.path("reply").asText("");
      if (r.get("route").asText().equals("/receive") && !from.equals("none")) {
        assertThat(byTrace).as("the dispatch that handed %s its value", r.get("trace_id").asText()).containsKey(from);
        handedOff.add(from + ">" + r.get("trace_id").asText());
      }
    }
    Figures.atLeast("hand-offs between two requests", handedOff.size(), atLeast);
    for (String pair : handedOff) {
      CompletedSpan dispatch = byTrace.get(pair.substring(0, 32));
      CompletedSpan receive = byTrace.get(pair.substring(33));
      assertThat(dispatch.links()).as("links of dispatch %s", dispatch.context()).filteredOn(l -> l.to().equals(receive.context()))
          .singleElement().satisfies(l -> assertThat(l.side()).isEqualTo(SpanLink.Side.SENDER));
      assertThat(receive.links()).as("links of receive %s", receive.context()).filteredOn(l -> l.to().equals(dispatch.context()))
          .singleElement().satisfies(l -> assertThat(l.side()).isEqualTo(SpanLink.Side.RECEIVER));
    }
    // Nothing else: every link of every span is one side of a hand-off of the ground truth.
    List<SpanLink> all = run.spans().stream().flatMap(s -> s.links().stream()).toList();
    for (CompletedSpan s : run.spans()) {
      for (SpanLink l : s.links()) {
        String pair = l.side() == SpanLink.Side.SENDER ? s.context().traceId() + ">" + l.to().traceId() : l.to().traceId() + ">" + s.context().traceId();
        assertThat(handedOff).as("link %s of span %s", l, s.context()).contains(pair);
      }
    }
    assertThat(all).hasSize(2 * handedOff.size());
    assertThat(run.metrics().get("braid.links").counter().count()).isEqualTo(handedOff.size());
    assertThat(run.metrics().get("braid.links.dropped").counter().count()).isZero();
    return all;
  }

  /** A dispatch whose span ended before the span of the receive that took its value started. */
  private static CompletedSpan endedBeforeItsValueWasReceived(TracedRun run) {
    Map<String, CompletedSpan> byTrace = new HashMap<>();
    run.spans().forEach(s -> byTrace.put(s.context().traceId(), s));
    for (JsonNode r : run.sent()) {
      CompletedSpan dispatch = byTrace.get(r.path("reply").asText(""));
      CompletedSpan receive = byTrace.get(r.get("trace_id").asText());
      if (dispatch != null && receive != null && dispatch.endEpochNanos() < receive.startEpochNanos()) {
        return dispatch;
      }
    }
    throw new AssertionError("no dispatch ended before its value was received");
  }
}
