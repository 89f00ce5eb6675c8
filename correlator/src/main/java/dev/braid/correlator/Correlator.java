package dev.braid.correlator;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.braid.bpf.MonotonicClock;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.otlp.ApiSpans;
import dev.braid.profiler.Location;
import dev.braid.profiler.StackSample;
import dev.braid.tracer.SpanEvent;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Joins span events and samples. Spans are assembled from their start and end events; each
 * sample is matched to the span its traces_ctx_v1 entry names. A sample of a span that is still
 * open (or whose start has not been drained yet) waits for the span to end, so that its labels
 * carry the span's final name; nothing is dropped: at the last flush, open spans are ended by
 * braid and everything goes out.
 *
 * <p>Ended spans are kept for two drain cycles ({@link #tick()}), enough for a sample drained
 * after its span's end; samples waiting for a span are indexed by it, so that the many spans
 * without samples cost a lookup in a small map. Plain Java over immutable records: testable
 * without a kernel. Not thread-safe: the pipeline thread feeds and flushes it.
 */
public final class Correlator {
  /** How long a sample may wait for its span to end before it goes out without the final name. */
  static final long MAX_SAMPLE_WAIT_NANOS = 60_000_000_000L;
  /**
   * How long a sample waits for the start of a span braid has not seen: the span ring buffer may
   * be drained after the sample ring buffer, or hold an event still being written. After this the
   * span is another writer's, and the sample goes out with its IDs only.
   */
  static final long UNKNOWN_SPAN_WAIT_NANOS = 2_000_000_000L;
  /** A span open this long has lost its end (ring buffer full): it is ended by braid. */
  static final long MAX_OPEN_NANOS = 3_600_000_000_000L;
  /** At most this many open spans are kept; beyond, the oldest is ended by braid. */
  static final int MAX_OPEN_SPANS = 200_000;

  private final MonotonicClock clock;
  private final IntFunction<ProcessInfo> processes;
  private final Map<SpanKey, SpanEvent.Started> open = new LinkedHashMap<>(); // oldest first
  /**
   * The open server span of each goroutine. A goroutine serves one request at a time (net/http's
   * connection loop, a gRPC stream's handler), so a server span that starts on a goroutine whose
   * last one is still open tells that the last one's end was lost.
   */
  private final Map<GoroutineKey, SpanKey> openServerSpans = new HashMap<>();
  /** Open server spans whose goroutine began another, and when: ended as lost after a drain cycle more. */
  private Map<SpanKey, Long> supersededNow = new HashMap<>();
  private Map<SpanKey, Long> supersededBefore = new HashMap<>();
  private Map<SpanKey, CompletedSpan> endedNow = new HashMap<>();
  private Map<SpanKey, CompletedSpan> endedBefore = new HashMap<>();
  private final Map<SpanKey, List<Waiting>> waiting = new HashMap<>();
  private final Map<SpanKey, CompletedSpan> completed = new LinkedHashMap<>(); // ended, not handed out yet
  /** braid's open server spans that the application's own server span replaces, and that span. */
  private final Map<SpanKey, TraceContext> replacedBy = new HashMap<>();
  /** braid's spans replaced in the last two drain cycles: a late sample of theirs names the application's. */
  private Map<SpanKey, TraceContext> replacedNow = new HashMap<>();
  private Map<SpanKey, TraceContext> replacedBefore = new HashMap<>();
  /**
   * braid's server spans that ended while an application span that started inside them was open
   * (otelgrpc ends its span after the RPC's status went out): held for that span's verdict, which
   * comes when it ends, for at most two drain cycles.
   */
  private Map<SpanKey, CompletedSpan> awaitingNow = new HashMap<>();
  private Map<SpanKey, CompletedSpan> awaitingBefore = new HashMap<>();
  /** Replaced spans that HandOffLinks still holds for a receiver: not exported when it lets them go. */
  private final Set<SpanKey> replacedHeld = new HashSet<>();
  private final HandOffLinks links;
  private final List<ProfiledSample> ready = new ArrayList<>();
  private final List<ResourceSpans> applicationSpans = new ArrayList<>();
  private long windowStart;
  private long unmatchedEnds;
  private long expiredSpans;
  private long lostEnds;
  private long linkPairs;
  private long selfHandOffs;
  private long lateLinks;
  private long replacedSpans;
  private long replacedSpanLinks;
  private long apiSpans;
  private long lateVerdicts;
  private long applicationRootLinks;
  private long apiSpansCut;

  private record Waiting(ProfiledSample sample, long sinceMonotonic) {}

  private record GoroutineKey(int pid, long goid) {
    static GoroutineKey of(SpanEvent.Started s) {
      return new GoroutineKey(s.pid(), s.goid());
    }

    // Written out, as SpanKey's: the generated ones go through ObjectMethods (8% of the pipeline
    // thread, a connection's goroutine replacing its own entry at every request).
    @Override
    public boolean equals(Object o) {
      return o instanceof GoroutineKey k && k.pid == pid && k.goid == goid;
    }

    @Override
    public int hashCode() {
      return 31 * pid + Long.hashCode(goid * 0x9E3779B97F4A7C15L);
    }
  }

  /**
   * @param processes what is known of a pid (never null: an unknown pid gets a placeholder)
   */
  public Correlator(MonotonicClock clock, IntFunction<ProcessInfo> processes) {
    this(clock, processes, Ticker.systemTicker());
  }

  /** With the ticker that times the waits of channel links (tests move it by hand). */
  Correlator(MonotonicClock clock, IntFunction<ProcessInfo> processes, Ticker ticker) {
    this.clock = clock;
    this.processes = processes;
    this.windowStart = clock.toEpochNanos(System.nanoTime());
    this.links = new HandOffLinks(ticker, this::released);
  }

  public void onSpanEvent(SpanEvent event) {
    switch (event) {
      case SpanEvent.Started s -> onStart(s);
      case SpanEvent.Ended e -> {
        SpanEvent.Started s = open.remove(new SpanKey(e.pid(), e.context().span()));
        if (s != null) {
          forgetServerSpan(s);
          CompletedSpan span = complete(s, e.monotonicNanos(), e.statusCode(), e.route(), e.reason(), e.protocolVersion());
          if (e.applicationSpanOpen() && s.kind() == SpanEvent.SpanKind.SERVER) {
            awaitingNow.put(new SpanKey(s.pid(), s.context().span()), span);
          } else {
            finish(span);
          }
        } else {
          unmatchedEnds++; // its start was lost (ring buffer full) or came before braid
        }
      }
      case SpanEvent.HandOff h -> onHandOff(h);
      case SpanEvent.ApiSpan a -> onApiSpan(a);
      // Counted as it goes out: braid's span may be replaced (otelhttp's own root span, for a request without traceparent).
      case SpanEvent.ApplicationRootSpan a -> addLink(new SpanKey(a.pid(), a.covered().span()), SpanLink.toApplicationSpan(a.span()));
      case SpanEvent.AutoSdkSwitch s -> {} // the tracer's own business
      case SpanEvent.ApplicationServerSpan a -> giveWay(new SpanKey(a.pid(), a.covered().span()), a.span());
    }
  }

  private void onStart(SpanEvent.Started s) {
    SpanKey key = new SpanKey(s.pid(), s.context().span());
    open.put(key, s);
    if (s.kind() != SpanEvent.SpanKind.SERVER) {
      return;
    }
    SpanKey before = openServerSpans.put(GoroutineKey.of(s), key);
    if (before != null && open.containsKey(before)) {
      // Its end may still come: kept aside by the probes after the tracer's last look.
      supersededNow.put(before, s.monotonicNanos());
    }
  }

  /** Ends the superseded spans whose end did not come within a drain cycle: it was lost. */
  private void endSuperseded(Map<SpanKey, Long> superseded) {
    superseded.forEach((key, nextStart) -> {
      SpanEvent.Started lost = open.remove(key);
      if (lost != null) {
        lostEnds++;
        finish(complete(lost, nextStart, 0, "", SpanEvent.EndReason.END_LOST, ""));
      }
    });
    superseded.clear();
  }

  private void forgetServerSpan(SpanEvent.Started s) {
    if (s.kind() == SpanEvent.SpanKind.SERVER) {
      openServerSpans.remove(GoroutineKey.of(s), new SpanKey(s.pid(), s.context().span()));
    }
  }

  /**
   * --auto-sdk: a span braid made for a program that uses the OpenTelemetry API alone ended; it
   * goes out with the next flush, and the samples that waited for it with it.
   */
  private void onApiSpan(SpanEvent.ApiSpan a) {
    ApiSpans.Ended ended =
        new ApiSpans.Ended(
            a.span(),
            a.parentSpanId(),
            // The span's length from the monotonic clock alone: the wall clock's offset may be measured again between its ends.
            a.startMonotonicNanos() == 0 ? 0 : clock.toEpochNanos(a.monotonicNanos()) - (a.monotonicNanos() - a.startMonotonicNanos()),
            clock.toEpochNanos(a.monotonicNanos()),
            a.jsonSize(),
            a.json());
    ProcessInfo process = processes.apply(a.pid());
    apiSpans++;
    List<ResourceSpans> spans;
    try {
      spans = ApiSpans.of(ended, process);
      if (a.cut()) {
        apiSpansCut++;
      }
    } catch (InvalidProtocolBufferException e) {
      apiSpansCut++;
      spans = List.of(ApiSpans.cut(ended, process));
    }
    if (spans.size() == 1 && ApiSpans.isServer(spans.getFirst()) && !a.parentSpanId().isEmpty()) {
      // otelhttp or otelgrpc on the API alone: braid made their SERVER span a child of its own for
      // the request, which it replaces, taking its parent (the incoming one).
      ResourceSpans server = spans.getFirst();
      spans = giveWay(new SpanKey(a.pid(), Long.parseUnsignedLong(a.parentSpanId(), 16)), a.span())
          .map(parent -> List.of(ApiSpans.withParent(server, parent)))
          .orElse(spans);
    }
    applicationSpans.addAll(spans);
    List<Waiting> samples = waiting.remove(new SpanKey(a.pid(), a.span().span()));
    if (samples != null) {
      samples.forEach(w -> ready.add(w.sample()));
    }
  }

  /**
   * The application's SERVER span {@code application} for a request whose span braid made too
   * ({@code braids}: open, or ended and held for this verdict) replaces braid's. Braid's parent
   * span id (hex, empty for a root) when it did; empty when {@code braids} is no server span
   * braid still holds (counted when it went out already: the request has two server spans).
   */
  private Optional<String> giveWay(SpanKey braids, TraceContext application) {
    SpanEvent.Started started = open.get(braids);
    if (started != null && started.kind() == SpanEvent.SpanKind.SERVER) {
      replacedBy.put(braids, application);
      return Optional.of(started.parentSpanId());
    }
    CompletedSpan held = awaitingNow.containsKey(braids) ? awaitingNow.remove(braids) : awaitingBefore.remove(braids);
    if (held != null) {
      replace(braids, held, application);
      return Optional.of(held.parentSpanId());
    }
    if (recentlyEnded(braids) != null) {
      lateVerdicts++;
    }
    return Optional.empty();
  }

  /** A span that HandOffLinks held for a receiver goes out, unless the application's span replaced it. */
  private void released(CompletedSpan s) {
    SpanKey key = new SpanKey(s.process().pid(), s.context().span());
    if (replacedHeld.remove(key)) {
      replacedSpanLinks += channelLinks(s);
    } else {
      completed.put(key, s);
    }
  }

  /**
   * A channel hand-off: both spans get a link to the other. A value left in a buffer by a spanned
   * goroutine holds that span's end until a receiver takes it (or the wait runs out).
   */
  private void onHandOff(SpanEvent.HandOff h) {
    Optional<SpanKey> sender = h.sender().context().map(c -> new SpanKey(h.pid(), c.span()));
    if (sender.isEmpty()) {
      return; // the probes report only hand-offs from spanned senders
    }
    switch (h.phase()) {
      case QUEUED -> {
        if (open.containsKey(sender.get()) || links.holds(sender.get())) {
          links.queued(sender.get());
        }
      }
      case DEQUEUED -> {
        link(h, sender.get());
        links.dequeued(sender.get());
      }
      case DIRECT -> link(h, sender.get());
    }
  }

  private void link(SpanEvent.HandOff h, SpanKey sender) {
    if (h.receiver().context().isEmpty()) {
      return;
    }
    TraceContext to = h.receiver().context().get();
    TraceContext from = h.sender().context().get();
    if (to.equals(from)) {
      selfHandOffs++; // one span on both sides (a goroutine it started, or itself): nothing to link
      return;
    }
    boolean buffered = h.phase() != SpanEvent.Phase.DIRECT;
    addLink(sender, new SpanLink(to, SpanLink.Side.SENDER, h.channel(), h.capacity(), buffered, h.sender().select()));
    addLink(new SpanKey(h.pid(), to.span()), new SpanLink(from, SpanLink.Side.RECEIVER, h.channel(), h.capacity(), buffered, h.receiver().select()));
    linkPairs++;
  }

  /**
   * A link goes with its span: waiting for its end, or added to it before it is handed out. A
   * span's start comes before any hand-off that names it (one ring buffer, in order): one that is
   * neither open, held nor waiting for the flush went out already (a goroutine outlived the span
   * it inherited), or is another writer's.
   */
  private void addLink(SpanKey span, SpanLink link) {
    CompletedSpan done = completed.get(span);
    if (done != null) {
      completed.put(span, done.withLinks(List.of(link), 0));
    } else if (open.containsKey(span) || links.holds(span) || awaiting(span)) {
      links.add(span, link);
    } else {
      lateLinks++;
    }
  }

  /** Adds a sample; {@code stack} is its symbolized stack. */
  public void onSample(StackSample sample, List<Location> stack) {
    ProcessInfo process = processes.apply(sample.pid());
    ProfiledSample p =
        new ProfiledSample(process, sample.tid(), clock.toEpochNanos(sample.monotonicNanos()), sample.context(), Optional.empty(), stack);
    if (sample.context().isEmpty()) {
      ready.add(p);
      return;
    }
    SpanKey key = new SpanKey(sample.pid(), sample.context().get().span());
    CompletedSpan span = recentlyEnded(key);
    TraceContext replacement = span == null ? recentlyReplaced(key) : null;
    if (replacement != null) {
      ready.add(withContext(p, replacement));
    } else if (span != null) {
      ready.add(withSpan(p, span));
    } else {
      waiting.computeIfAbsent(key, k -> new ArrayList<>(2)).add(new Waiting(p, sample.monotonicNanos()));
    }
  }

  /**
   * A drain cycle is over: spans that ended two cycles ago are forgotten; spans that waited that
   * long for an application span's verdict go out.
   */
  public void tick() {
    Map<SpanKey, CompletedSpan> reuse = endedBefore;
    endedBefore = endedNow;
    reuse.clear();
    endedNow = reuse;
    Map<SpanKey, TraceContext> reuseReplaced = replacedBefore;
    replacedBefore = replacedNow;
    reuseReplaced.clear();
    replacedNow = reuseReplaced;
    // After the rotation: a span released now is kept two cycles for its late samples, as any.
    releaseAwaiting(awaitingBefore);
    endSuperseded(supersededBefore);
    Map<SpanKey, Long> reuseSuperseded = supersededBefore;
    supersededBefore = supersededNow;
    supersededNow = reuseSuperseded;
    Map<SpanKey, CompletedSpan> reuseAwaiting = awaitingBefore;
    awaitingBefore = awaitingNow;
    awaitingNow = reuseAwaiting;
  }

  /** Ends the open spans of a process that exited. */
  public void processExited(int pid, long monotonicNanos) {
    endOpenSpans(s -> s.pid() == pid, monotonicNanos, SpanEvent.EndReason.PROCESS_EXITED);
    links.releaseProcess(pid);
  }

  /** Span ends whose start braid never saw: those spans cannot be exported. */
  public long unmatchedEnds() {
    return unmatchedEnds;
  }

  /** Spans that started and have not ended. */
  public int openSpans() {
    return open.size();
  }

  /** Spans that ended and wait for the next flush: braid's, and those of --auto-sdk programs. */
  public int completedSpans() {
    return completed.size() + applicationSpans.size();
  }

  /** Channel hand-offs between two spans: each gave both spans a link. */
  public long linkPairs() {
    return linkPairs;
  }

  /** Hand-offs between goroutines that showed the same span: no link. */
  public long selfHandOffs() {
    return selfHandOffs;
  }

  /** Links not added: their span had gone out already, or braid does not know it. */
  public long lateLinks() {
    return lateLinks;
  }

  /** Links lost because their span did not end in time, or too many waited. */
  public long droppedLinks() {
    return links.linksExpired() + links.linksOverflowed();
  }

  /** Spans that went out without the link of a value they left in a buffer: no receiver in time, or the store was full. */
  public long spansReleasedUnlinked() {
    return links.heldExpired() + links.heldOverflowed();
  }

  /** Spans with links waiting for their end, or ended spans waiting for a receiver. */
  public long pendingLinkSpans() {
    return links.size();
  }

  /** Samples held until their span ends (or the wait runs out). */
  public int waitingSamples() {
    int n = 0;
    for (List<Waiting> w : waiting.values()) {
      n += w.size();
    }
    return n;
  }

  /**
   * Hands out what is ready. With {@code last}, open spans end now (braid is stopping) and every
   * sample goes out.
   */
  public Batch flush(long nowMonotonic, boolean last) {
    if (last) {
      endOpenSpans(s -> true, nowMonotonic, SpanEvent.EndReason.FINISHED_BY_BRAID);
      releaseAwaiting(awaitingBefore);
      releaseAwaiting(awaitingNow);
      links.releaseAll();
    }
    expireOpenSpans(nowMonotonic);
    links.cleanUp();
    // Samples that waited long enough go out with their IDs only: another writer's span, or one
    // still open at the deadline.
    for (Iterator<Map.Entry<SpanKey, List<Waiting>>> it = waiting.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<SpanKey, List<Waiting>> e = it.next();
      long limit = open.containsKey(e.getKey()) || awaiting(e.getKey()) ? MAX_SAMPLE_WAIT_NANOS : UNKNOWN_SPAN_WAIT_NANOS;
      e.getValue().removeIf(w -> (last || nowMonotonic - w.sinceMonotonic() > limit) && ready.add(w.sample()));
      if (e.getValue().isEmpty()) {
        it.remove();
      }
    }
    long windowEnd = clock.toEpochNanos(nowMonotonic);
    completed.values().forEach(this::countApplicationLinks);
    Batch batch = new Batch(windowStart, windowEnd, new ArrayList<>(completed.values()), applicationSpans, ready, last);
    completed.clear();
    applicationSpans.clear();
    ready.clear();
    windowStart = windowEnd;
    return batch;
  }

  /**
   * Hands out the first {@code max} spans that ended (fewer if fewer did), ahead of the next
   * flush; samples wait for that one.
   */
  public Batch flushSpans(long nowMonotonic, int max) {
    List<CompletedSpan> first;
    if (completed.size() <= max) {
      first = new ArrayList<>(completed.values());
      completed.clear();
    } else {
      first = new ArrayList<>(max);
      for (Iterator<CompletedSpan> it = completed.values().iterator(); first.size() < max; ) {
        first.add(it.next());
        it.remove();
      }
    }
    first.forEach(this::countApplicationLinks);
    List<ResourceSpans> firstOfApplications = applicationSpans.subList(0, Math.min(max - first.size(), applicationSpans.size()));
    Batch batch = new Batch(windowStart, clock.toEpochNanos(nowMonotonic), first, firstOfApplications, List.of(), false);
    firstOfApplications.clear();
    return batch;
  }

  /** The channel links of a span (its links to the application's root spans are not "lost" with it: the application exports those). */
  private static long channelLinks(CompletedSpan s) {
    return s.links().stream().filter(l -> l.type() == SpanLink.Type.GO_CHANNEL).count();
  }

  private void countApplicationLinks(CompletedSpan s) {
    for (SpanLink l : s.links()) {
      if (l.type() == SpanLink.Type.APPLICATION_SPAN) {
        applicationRootLinks++;
      }
    }
  }

  private boolean awaiting(SpanKey key) {
    return awaitingNow.containsKey(key) || awaitingBefore.containsKey(key);
  }

  /** Spans no application span replaced in time: they go out as braid's. */
  private void releaseAwaiting(Map<SpanKey, CompletedSpan> spans) {
    spans.values().forEach(this::finish);
    spans.clear();
  }

  private CompletedSpan recentlyEnded(SpanKey key) {
    CompletedSpan span = endedNow.get(key);
    return span != null ? span : endedBefore.get(key);
  }

  /** Ends spans whose end was lost, so that memory stays bounded; they are counted. */
  private void expireOpenSpans(long nowMonotonic) {
    for (Iterator<SpanEvent.Started> it = open.values().iterator(); it.hasNext(); ) {
      SpanEvent.Started s = it.next();
      if (nowMonotonic - s.monotonicNanos() > MAX_OPEN_NANOS || open.size() > MAX_OPEN_SPANS) {
        it.remove();
        forgetServerSpan(s);
        expiredSpans++;
        finish(complete(s, nowMonotonic, 0, "", SpanEvent.EndReason.FINISHED_BY_BRAID, ""));
      }
    }
  }

  /**
   * braid's server spans that the application's own server span replaced (otelhttp, otelgrpc):
   * not exported; their samples name the application's span.
   */
  public long replacedSpans() {
    return replacedSpans;
  }

  /**
   * Application server spans that came after braid's span for the request went out (it waited
   * two drain cycles): that request has both.
   */
  public long lateVerdicts() {
    return lateVerdicts;
  }

  /** Channel links of braid's spans that the application's span replaced: lost with them. */
  public long replacedSpanLinks() {
    return replacedSpanLinks;
  }

  private TraceContext recentlyReplaced(SpanKey key) {
    TraceContext c = replacedNow.get(key);
    return c != null ? c : replacedBefore.get(key);
  }

  /** Links from braid's spans to root spans of the application's that started inside them, handed out. */
  public long applicationRootLinks() {
    return applicationRootLinks;
  }

  /** --auto-sdk: spans exported for programs that use the OpenTelemetry API alone. */
  public long apiSpans() {
    return apiSpans;
  }

  /**
   * --auto-sdk: of those, spans exported with braid's own facts only (IDs, parent, times, name):
   * their JSON was larger than one event, or unreadable.
   */
  public long apiSpansCut() {
    return apiSpansCut;
  }

  /** Spans braid ended itself because their end never came (ring buffer full). */
  public long expiredSpans() {
    return expiredSpans;
  }

  /**
   * Server spans whose end was lost (ring buffer full), ended when their goroutine started the
   * next one.
   */
  public long lostEnds() {
    return lostEnds;
  }

  /** The sample, naming another writer's span (by its IDs: braid does not export it). */
  private static ProfiledSample withContext(ProfiledSample s, TraceContext context) {
    return new ProfiledSample(s.process(), s.tid(), s.epochNanos(), Optional.of(context), Optional.empty(), s.stack());
  }

  private static ProfiledSample withSpan(ProfiledSample s, CompletedSpan span) {
    return new ProfiledSample(s.process(), s.tid(), s.epochNanos(), s.context(), Optional.of(span), s.stack());
  }

  private void endOpenSpans(java.util.function.Predicate<SpanEvent.Started> which, long monotonicNanos, SpanEvent.EndReason reason) {
    for (Iterator<SpanEvent.Started> it = open.values().iterator(); it.hasNext(); ) {
      SpanEvent.Started s = it.next();
      if (which.test(s)) {
        it.remove();
        forgetServerSpan(s);
        finish(complete(s, monotonicNanos, 0, "", reason, ""));
      }
    }
  }

  /** The span {@code s} makes, ended. {@code responseVersion}: the HTTP version a client span's response came in (a server's request says its own). */
  private CompletedSpan complete(SpanEvent.Started s, long endMonotonic, long statusCode, String route, SpanEvent.EndReason reason, String responseVersion) {
    boolean client = s.kind() == SpanEvent.SpanKind.CLIENT;
    // A handler that writes nothing gets 200 from net/http when the response is flushed (an RPC's 0 is OK).
    long status = statusCode == 0 && reason == SpanEvent.EndReason.FINISHED && !client && s.rpcSystem().isEmpty() ? 200 : statusCode;
    return new CompletedSpan(
        processes.apply(s.pid()),
        s.context(),
        s.parentSpanId(),
        s.traceFlags(),
        switch (s.kind()) {
          case SERVER -> SpanKind.SERVER;
          case CLIENT -> SpanKind.CLIENT;
          case INTERNAL -> SpanKind.INTERNAL;
        },
        s.method(),
        s.path(),
        route,
        s.host(),
        client ? responseVersion : s.protocolVersion(),
        s.rpcSystem(),
        status,
        reason,
        clock.toEpochNanos(endMonotonic) - (endMonotonic - s.monotonicNanos()),
        clock.toEpochNanos(endMonotonic),
        s.tid(),
        List.of(),
        0);
  }

  /** An ended span goes out with its samples and links, unless the application's span replaced it. */
  private void finish(CompletedSpan span) {
    SpanKey key = new SpanKey(span.process().pid(), span.context().span());
    // (most spans have no replacement and no waiting samples: no lookup for those, on the hot path)
    TraceContext replacement = replacedBy.isEmpty() ? null : replacedBy.remove(key);
    if (replacement != null) {
      replace(key, span, replacement);
      return;
    }
    CompletedSpan linked = links.ended(key, span);
    if (linked != null) {
      completed.put(key, linked);
    }
    endedNow.put(key, span);
    List<Waiting> samples = waiting.isEmpty() ? null : waiting.remove(key);
    if (samples != null) {
      for (Waiting w : samples) {
        ready.add(withSpan(w.sample(), span));
      }
    }
  }

  /**
   * braid's span {@code key} gives way to the application's server span for the same request: it
   * is not exported, and its samples name the application's span. Its channel links go with it
   * (counted): the application exports its span without them.
   */
  private void replace(SpanKey key, CompletedSpan braids, TraceContext applications) {
    replacedSpans++;
    CompletedSpan linked = links.ended(key, braids);
    if (linked != null) {
      replacedSpanLinks += channelLinks(linked);
    } else if (links.holds(key)) {
      replacedHeld.add(key);
    }
    replacedNow.put(key, applications);
    List<Waiting> samples = waiting.remove(key);
    if (samples != null) {
      for (Waiting w : samples) {
        ready.add(withContext(w.sample(), applications));
      }
    }
  }
}
