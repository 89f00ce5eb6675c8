package dev.braid.correlator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.MonotonicClock;
import dev.braid.bpf.TraceContext;
import dev.braid.tracer.SpanEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** How the correlator turns channel hand-offs into span links, without a kernel. */
class ChannelLinkCorrelationTest {
  private static final int PID = 4242;
  private static final long CHAN = 0xc000123000L;
  private static final TraceContext SENDER = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8");
  private static final TraceContext RECEIVER = new TraceContext("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
  private static final TraceContext OTHER = new TraceContext("11111111111111111111111111111111", "2222222222222222");
  private final AtomicLong ticker = new AtomicLong();
  private final Correlator correlator =
      new Correlator(MonotonicClock.measure(), pid -> new ProcessInfo(pid, "/srv/shop", "shop", "host"), ticker::get);

  /** Each span is served by a goroutine of its own, as requests are. */
  private static long goroutineOf(TraceContext ctx) {
    return 33 + (ctx.span() & 0xffff);
  }

  private static SpanEvent.Started started(TraceContext ctx) {
    return new SpanEvent.Started(PID, 7, goroutineOf(ctx), 1, 1_000, ctx, "", 1, SpanEvent.SpanKind.SERVER, "GET", "/dispatch", false, "", "1.1", "");
  }

  private static SpanEvent.Ended ended(TraceContext ctx) {
    return new SpanEvent.Ended(PID, 7, goroutineOf(ctx), 2_000, ctx, 200, SpanEvent.EndReason.FINISHED, "/dispatch", "", false);
  }

  private static SpanEvent.HandOff handOff(SpanEvent.Phase phase, TraceContext from, Optional<TraceContext> to, long capacity) {
    return new SpanEvent.HandOff(
        PID, 7, 1_500, CHAN, capacity, phase, new SpanEvent.Party(33, Optional.of(from), false), new SpanEvent.Party(34, to, true));
  }

  private Map<TraceContext, CompletedSpan> flush(boolean last) {
    return correlator.flush(3_000, last).spans().stream().collect(Collectors.toMap(CompletedSpan::context, Function.identity()));
  }

  @Test
  void aDirectHandOffLinksBothSpansToEachOther() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(started(RECEIVER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.DIRECT, SENDER, Optional.of(RECEIVER), 0));
    correlator.onSpanEvent(ended(SENDER));
    correlator.onSpanEvent(ended(RECEIVER));
    Map<TraceContext, CompletedSpan> spans = flush(false);
    assertThat(spans.get(SENDER).links()).containsExactly(new SpanLink(RECEIVER, SpanLink.Side.SENDER, CHAN, 0, false, false));
    assertThat(spans.get(RECEIVER).links()).containsExactly(new SpanLink(SENDER, SpanLink.Side.RECEIVER, CHAN, 0, false, true));
    assertThat(spans.get(SENDER).links().getFirst().attributes().get(SpanLink.SIDE)).isEqualTo("sender");
    assertThat(spans.get(SENDER).links().getFirst().attributes().get(SpanLink.ADDRESS)).isEqualTo("0xc000123000");
    assertThat(correlator.linkPairs()).isEqualTo(1);
  }

  @Test
  void aSpanThatLeftAValueInABufferWaitsForItsReceiver() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.QUEUED, SENDER, Optional.empty(), 3));
    correlator.onSpanEvent(ended(SENDER));
    assertThat(flush(false)).as("held for the receiver").isEmpty();
    correlator.onSpanEvent(started(RECEIVER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.DEQUEUED, SENDER, Optional.of(RECEIVER), 3));
    assertThat(flush(false).get(SENDER).links()).containsExactly(new SpanLink(RECEIVER, SpanLink.Side.SENDER, CHAN, 3, true, false));
    correlator.onSpanEvent(ended(RECEIVER));
    assertThat(flush(false).get(RECEIVER).links()).containsExactly(new SpanLink(SENDER, SpanLink.Side.RECEIVER, CHAN, 3, true, true));
    assertThat(correlator.pendingLinkSpans()).isZero();
  }

  @Test
  void aValueTakenByAGoroutineWithoutSpanReleasesItsSenderUnlinked() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.QUEUED, SENDER, Optional.empty(), 3));
    correlator.onSpanEvent(ended(SENDER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.DEQUEUED, SENDER, Optional.empty(), 3));
    assertThat(flush(false).get(SENDER).links()).isEmpty();
    assertThat(correlator.linkPairs()).isZero();
    assertThat(correlator.spansReleasedUnlinked()).isZero();
  }

  @Test
  void aHeldSpanGoesOutWhenNoReceiverComesInTime() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.QUEUED, SENDER, Optional.empty(), 3));
    correlator.onSpanEvent(ended(SENDER));
    ticker.addAndGet(HandOffLinks.HELD_WAIT.minusSeconds(1).toNanos());
    assertThat(flush(false)).isEmpty();
    ticker.addAndGet(Duration.ofSeconds(2).toNanos());
    assertThat(flush(false)).containsKey(SENDER);
    assertThat(correlator.spansReleasedUnlinked()).isEqualTo(1);
  }

  @Test
  void braidStoppingReleasesEveryHeldSpan() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.QUEUED, SENDER, Optional.empty(), 3));
    correlator.onSpanEvent(ended(SENDER));
    assertThat(flush(true)).containsKey(SENDER);
    assertThat(correlator.spansReleasedUnlinked()).isEqualTo(1);
  }

  @Test
  void aLinkForASpanThatNeverEndsExpiresAndIsCounted() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(started(RECEIVER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.DIRECT, SENDER, Optional.of(RECEIVER), 0));
    correlator.onSpanEvent(ended(RECEIVER));
    assertThat(flush(false).get(RECEIVER).links()).extracting(SpanLink::to).containsExactly(SENDER);
    ticker.addAndGet(HandOffLinks.OPEN_WAIT.minusSeconds(1).toNanos());
    flush(false);
    assertThat(correlator.droppedLinks()).isZero();
    ticker.addAndGet(Duration.ofSeconds(2).toNanos());
    flush(false);
    assertThat(correlator.droppedLinks()).isEqualTo(1);
  }

  @Test
  void aLinkForASpanBraidDoesNotKnowIsCountedLate() {
    correlator.onSpanEvent(started(RECEIVER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.DIRECT, OTHER, Optional.of(RECEIVER), 0)); // OTHER: another writer's span
    correlator.onSpanEvent(ended(RECEIVER));
    assertThat(flush(false).get(RECEIVER).links()).extracting(SpanLink::to).containsExactly(OTHER);
    assertThat(correlator.lateLinks()).isEqualTo(1);
    assertThat(correlator.pendingLinkSpans()).isZero();
  }

  @Test
  void aSpanKeepsItsFirst128LinksAndCountsTheRest() {
    correlator.onSpanEvent(started(SENDER));
    for (int i = 0; i < CompletedSpan.MAX_LINKS + 5; i++) {
      TraceContext receiver = new TraceContext("0af7651916cd43dd8448eb211c80319c", String.format("%016x", i + 1));
      correlator.onSpanEvent(started(receiver));
      correlator.onSpanEvent(handOff(SpanEvent.Phase.DIRECT, SENDER, Optional.of(receiver), 0));
    }
    correlator.onSpanEvent(ended(SENDER));
    CompletedSpan sender = flush(true).get(SENDER);
    assertThat(sender.links()).hasSize(CompletedSpan.MAX_LINKS);
    assertThat(sender.droppedLinks()).isEqualTo(5);
    assertThat(sender.links().getFirst().to().spanId()).isEqualTo("0000000000000001");
  }

  @Test
  void theHeldSpansOfAProcessThatExitedGoOutAtOnce() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.QUEUED, SENDER, Optional.empty(), 3));
    correlator.onSpanEvent(ended(SENDER));
    assertThat(flush(false)).isEmpty();
    correlator.processExited(PID, 2_500);
    assertThat(flush(false)).containsKey(SENDER);
  }

  @Test
  void aLinkForASpanAlreadyHandedOutIsCountedLate() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(ended(SENDER));
    assertThat(flush(false)).containsKey(SENDER);
    correlator.onSpanEvent(started(RECEIVER));
    // A goroutine still showing SENDER's span (it inherited it) hands a value to RECEIVER.
    correlator.onSpanEvent(handOff(SpanEvent.Phase.DIRECT, SENDER, Optional.of(RECEIVER), 0));
    correlator.onSpanEvent(ended(RECEIVER));
    assertThat(flush(false).get(RECEIVER).links()).extracting(SpanLink::to).containsExactly(SENDER);
    assertThat(correlator.lateLinks()).isEqualTo(1);
  }

  @Test
  void aLinkForASpanEndedButNotYetHandedOutIsAddedToIt() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(started(RECEIVER));
    correlator.onSpanEvent(ended(SENDER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.DIRECT, SENDER, Optional.of(RECEIVER), 0));
    correlator.onSpanEvent(ended(RECEIVER));
    Map<TraceContext, CompletedSpan> spans = flush(false);
    assertThat(spans.get(SENDER).links()).extracting(SpanLink::to).containsExactly(RECEIVER);
    assertThat(correlator.lateLinks()).isZero();
  }

  @Test
  void oneSpanOnBothSidesGivesNoLink() {
    correlator.onSpanEvent(started(SENDER));
    correlator.onSpanEvent(handOff(SpanEvent.Phase.DIRECT, SENDER, Optional.of(SENDER), 0));
    correlator.onSpanEvent(ended(SENDER));
    assertThat(flush(false).get(SENDER).links()).isEmpty();
    assertThat(correlator.selfHandOffs()).isEqualTo(1);
    assertThat(List.of(correlator.linkPairs(), correlator.droppedLinks())).containsOnly(0L);
  }
}
