package dev.braid.tracer;

import dev.braid.bpf.BpfLink;
import dev.braid.bpf.BpfMap;
import dev.braid.bpf.BpfObject;
import dev.braid.bpf.BpfProgram;
import dev.braid.bpf.Cgroups;
import dev.braid.bpf.LittleEndian;
import dev.braid.bpf.RingBufferReader;
import dev.braid.bpf.TracesContextMap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * The writer side: loads tracer.bpf.c, shares the pinned traces_ctx_v1, attaches the probes of
 * each {@link GoProgram} it is given (in every process running that binary, now and later), and
 * hands the decoded {@link SpanEvent}s to a listener when {@link #drain()} runs. With {@code
 * propagate}, it also loads propagate.bpf.c, which adds traceparent to outgoing requests.
 *
 * <p>Owns the BPF objects, the probes' links and the ring buffer. {@link #close()} detaches every
 * probe, then deletes every traces_ctx_v1 entry of the processes it traced (the pin itself stays:
 * other readers may hold it). Methods are synchronized; the listener runs on the draining thread.
 */
public final class Tracer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Tracer.class.getName());
  static final String OBJECT = "/bpf/tracer.bpf.o";
  static final String PROPAGATE_OBJECT = "/bpf/propagate.bpf.o";
  static final String AUTO_SDK_OBJECT = "/bpf/auto_sdk.bpf.o";
  /** Size of the {@code binaries} array in tracer_maps.h; id 0 stays unused. */
  static final int MAX_BINARIES = 1024;
  /** Maps of tracer.bpf.o that propagate.bpf.o and auto_sdk.bpf.o use too (tracer_maps.h). */
  private static final List<String> SHARED_MAPS =
      List.of(
          TracesContextMap.NAME, "binaries", "goroutines", "outgoing_by_request", "pending_sends", "pending_by_goroutine",
          "threads", "events", "tracer_stats", "header_scratch", "app_spans", "lost_ends", "end_scratch");
  /** Maps keyed by a struct whose first u32 is the tgid. */
  private static final List<String> PER_PROCESS_MAPS = List.of("goroutines", "outgoing_by_request", "pending_by_goroutine", "chan_slots", "app_spans");
  /** Maps of auto_sdk.bpf.o keyed by a struct (or u32) whose first u32 is the tgid. */
  private static final List<String> AUTO_SDK_PER_PROCESS_MAPS = List.of("auto_sdk_asked", "auto_spans");

  private final BpfObject object;
  private final RingBufferReader events;
  private final Consumer<SpanEvent> listener;
  private final StringInterner strings = new StringInterner(); // used only by the draining thread
  /** Span ends read from lost_ends, oldest first, waiting for their place among the ring buffer's events. */
  private final PriorityQueue<SpanEvent> keptEnds = new PriorityQueue<>(Comparator.comparingLong(SpanEvent::monotonicNanos));
  private final List<BpfLink> links = new ArrayList<>();
  private final Map<FileIdentity, Integer> binaryIds = new HashMap<>();
  private final Set<String> attachedTo = new HashSet<>(); // identity@pid
  private final Map<Integer, List<BpfLink>> linksOfPid = new HashMap<>(); // probes of one process, detached when it is forgotten
  private final Map<FileIdentity, List<BpfLink>> linksOfBinary = new HashMap<>(); // probes in all processes of a binary, until released
  private final Queue<Integer> freeBinaryIds = new ConcurrentLinkedQueue<>(); // of released binaries, once their probes are detached
  /** Detaches the probes of exited processes and released binaries, off the pipeline's thread. */
  private final Detacher detacher = new Detacher();
  private final Set<Integer> seenPids = new HashSet<>();
  /** The pid of the last event, known to be in seenPids: events come in runs of one process. */
  private int lastSeenPid;
  private BpfObject propagation;
  /** auto_sdk.bpf.o, with --auto-sdk. */
  private BpfObject autoSdk;
  private final AutoSdkSwitches autoSdkSwitches = new AutoSdkSwitches();
  private boolean sampleTimeContext;
  private boolean channelLinks;
  private boolean closed;
  private int nextBinaryId = 1;

  private Tracer(BpfObject object, Consumer<SpanEvent> listener) {
    this.object = object;
    this.listener = listener;
    this.events =
        new RingBufferReader(
            object.map("events"),
            record -> {
              SpanEvent e = SpanEventDecoder.decode(record, strings);
              handKeptEndsBefore(e.monotonicNanos());
              if (e.pid() != lastSeenPid) {
                seenPids.add(e.pid());
                lastSeenPid = e.pid();
              }
              if (e instanceof SpanEvent.AutoSdkSwitch s) {
                boolean handled = binaryOf(s.binaryId()).map(binary -> autoSdkSwitches.turnOn(s.pid(), binary, s.flagAddress())).orElse(false);
                if (!handled && autoSdk != null) {
                  autoSdk.map("auto_sdk_asked").delete(LittleEndian.u32(s.pid())); // the probes ask again
                }
              } else {
                listener.accept(e);
              }
            });
  }

  /**
   * Loads the writer and pins (or reuses) traces_ctx_v1 under {@code pinRoot}.
   *
   * @param propagate add traceparent to the outgoing HTTP/1.1 requests of client spans
   * @throws dev.braid.bpf.IncompatiblePinException when a map of another layout is pinned there
   * @throws dev.braid.bpf.BpfException when the kernel refuses the programs or maps
   */
  public static Tracer start(Path pinRoot, boolean propagate, Consumer<SpanEvent> listener) {
    return start(pinRoot, new Options(propagate, false, true, false, DEFAULT_EVENT_BUFFER), listener);
  }

  /** Bytes of the ring buffer of span events, as tracer_maps.h declares it: 8 MiB lost events in the first seconds at ~45k requests/s. */
  public static final int DEFAULT_EVENT_BUFFER = 16 << 20;

  /**
   * What the tracer does besides spans and traces_ctx_v1.
   *
   * @param propagate add traceparent to the outgoing HTTP/1.1 requests of client spans
   * @param sampleTimeContext --ctx-source sample: binaries that allow it get no goroutine-switch
   *     probes and leave traces_ctx_v1 alone; the sampler finds the running goroutine's context in
   *     {@link #goroutinesMap()} itself
   * @param channelLinks probe channel operations and report hand-offs between spanned goroutines
   * @param autoSdk be the SDK of programs that use the OpenTelemetry API alone: loads
   *     auto_sdk.bpf.o, and turns on each program's switch to go.opentelemetry.io/auto/sdk (one
   *     byte written into it, turned off again at close)
   * @param eventBuffer bytes of the ring buffer that carries span events (a power of two, at
   *     least a page): events that find it full are lost, and counted
   */
  public record Options(boolean propagate, boolean sampleTimeContext, boolean channelLinks, boolean autoSdk, int eventBuffer) {}

  /** As {@link #start(Path, boolean, Consumer)}, with every option. */
  public static Tracer start(Path pinRoot, Options options, Consumer<SpanEvent> listener) {
    BpfObject object = TracesContextMap.loadShared(OBJECT, pinRoot, o -> o.map("events").setMaxEntries(options.eventBuffer()));
    Tracer tracer;
    try {
      tracer = new Tracer(object, listener);
      tracer.sampleTimeContext = options.sampleTimeContext();
      tracer.channelLinks = options.channelLinks();
    } catch (RuntimeException e) {
      object.close();
      throw e;
    }
    try {
      tracer.links.add(object.program("thread_exit").attach());
      if (options.propagate()) {
        tracer.startPropagation();
      }
      if (options.autoSdk()) {
        tracer.autoSdk = tracer.loadOnSharedMaps(AUTO_SDK_OBJECT);
      }
    } catch (RuntimeException e) {
      tracer.close();
      throw e;
    }
    return tracer;
  }

  /** Loads propagate.bpf.o on the tracer's maps and attaches it to the client sockets. */
  private void startPropagation() {
    Path cgroup =
        Cgroups.v2Root()
            .orElseThrow(() -> new IllegalStateException("--propagate needs the cgroup v2 hierarchy mounted (mount -t cgroup2 none /sys/fs/cgroup)"));
    propagation = loadOnSharedMaps(PROPAGATE_OBJECT);
    links.add(propagation.program("client_socket_ops").attachCgroup(cgroup));
    links.add(propagation.program("add_traceparent").attachSkMsg(propagation.map("client_sockets")));
  }

  /** Loads another object of the tracer's that uses tracer.bpf.o's maps (tracer_maps.h), on those maps. */
  private BpfObject loadOnSharedMaps(String resource) {
    BpfObject other = BpfObject.openResource(resource);
    try {
      for (String name : SHARED_MAPS) {
        other.map(name).reuseFd(object.map(name).fd());
      }
      other.load();
      return other;
    } catch (RuntimeException e) {
      other.close();
      throw e;
    }
  }

  /** The binary probed under {@code id}, if any. */
  private synchronized Optional<FileIdentity> binaryOf(int id) {
    return binaryIds.entrySet().stream().filter(e -> e.getValue() == id).map(Map.Entry::getKey).findFirst();
  }

  public boolean propagates() {
    return propagation != null;
  }

  /**
   * Probes a binary in all its processes, present and future. Idempotent per file.
   *
   * @return the binary's id, as {@link SpanEvent.Started#binaryId()} reports it
   */
  public synchronized int instrument(GoProgram program) {
    return instrument(program, BpfProgram.ALL_PROCESSES);
  }

  /**
   * Probes a binary in one process ({@code pid}), or in all ({@link BpfProgram#ALL_PROCESSES}).
   * Idempotent per file and pid.
   */
  public synchronized int instrument(GoProgram program, int pid) {
    requireOpen();
    String target = program.identity() + "@" + (attachedTo.contains(program.identity() + "@" + BpfProgram.ALL_PROCESSES) ? BpfProgram.ALL_PROCESSES : pid);
    Integer known = binaryIds.get(program.identity());
    if (known != null && attachedTo.contains(target)) {
      return known;
    }
    Integer reusable = freeBinaryIds.peek();
    int id = known != null ? known : reusable != null ? reusable : nextBinaryId;
    if (id >= MAX_BINARIES) {
      throw new IllegalStateException("braid can instrument at most " + (MAX_BINARIES - 1)
          + " distinct Go binaries at once; narrow it with --exclude, --exe or --pid");
    }
    GoOffsets offsets = program.offsets();
    boolean propagate = propagates() && program.has(Probe.Feature.PROPAGATE) && offsets.has(GoOffsets.FEAT_TRACEPARENT);
    if (propagate) {
      offsets = offsets.withFeatures(offsets.features() | GoOffsets.FEAT_PROPAGATE);
    }
    boolean sampleTime = sampleTimeContext(program);
    if (!sampleTime) {
      offsets = offsets.withFeatures(offsets.features() | GoOffsets.FEAT_CTX_MAP);
      if (sampleTimeContext && known == null) {
        LOG.log(System.Logger.Level.WARNING, program.path() + ": --ctx-source sample is off for it; its goroutine switches are probed instead");
      }
    }
    if (!channelLinks) {
      offsets = offsets.withFeatures(offsets.features() & ~GoOffsets.FEAT_CHAN_LINKS);
    }
    boolean autoSdkFor = autoSdk != null && program.has(Probe.Feature.AUTO_SDK);
    if (!autoSdkFor) {
      offsets = offsets.withFeatures(offsets.features() & ~GoOffsets.FEAT_AUTO_SDK);
      if (autoSdk != null && known == null) {
        // Most binaries of a host use no OpenTelemetry at all; one with an API too old was warned of (OffsetResolver).
        LOG.log(System.Logger.Level.DEBUG, () -> program.path() + ": --auto-sdk does nothing for it: it does not link go.opentelemetry.io/auto/sdk");
      }
    }
    Probe.Feature skipped = sampleTime ? Probe.Feature.CONTEXT : Probe.Feature.SAMPLE_CONTEXT;
    // --propagate follows the goroutine that writes a request from thread to thread until it sends
    // it: with --ctx-source sample too, the switch probes are attached (they leave the map alone).
    boolean switchesFollowed = sampleTime && propagate;
    object.map("binaries").update(LittleEndian.u32(id), offsets.toBytes());
    if (known == null) {
      removeLeftovers(program.identity());
    }
    List<BpfLink> attached = new ArrayList<>();
    try {
      for (GoProgram.ProbeSite site : program.sites()) {
        Probe.Feature feature = site.probe().feature;
        if (feature == Probe.Feature.PROPAGATE && !propagate
            || feature == skipped && !switchesFollowed
            || feature == Probe.Feature.CHANNEL_LINKS && !channelLinks
            || feature == Probe.Feature.AUTO_SDK && !autoSdkFor) {
          continue;
        }
        BpfProgram prog = (feature == Probe.Feature.AUTO_SDK ? autoSdk : object).program(site.probe().program);
        attached.add(prog.attachUprobe(pid == BpfProgram.ALL_PROCESSES ? program.path() : program.pathIn(pid), site.fileOffset(), pid, site.cookie(id)));
      }
    } catch (RuntimeException e) {
      attached.forEach(BpfLink::close);
      if (known == null) {
        // An array entry cannot be deleted; all zero reads as "not set up" in the probes.
        object.map("binaries").update(LittleEndian.u32(id), new byte[offsets.toBytes().length]);
      }
      throw e;
    }
    links.addAll(attached);
    if (pid != BpfProgram.ALL_PROCESSES) {
      linksOfPid.computeIfAbsent(pid, p -> new ArrayList<>()).addAll(attached);
    } else {
      linksOfBinary.computeIfAbsent(program.identity(), b -> new ArrayList<>()).addAll(attached);
    }
    if (known == null && Integer.valueOf(id).equals(freeBinaryIds.peek())) {
      freeBinaryIds.poll();
    }
    binaryIds.put(program.identity(), id);
    nextBinaryId = Math.max(nextBinaryId, id + 1);
    attachedTo.add(program.identity() + "@" + pid);
    LOG.log(System.Logger.Level.DEBUG, () -> "probed " + program.path() + " (" + program.goVersion() + "): " + attached.size() + " probes");
    return id;
  }

  /**
   * Whether the sampler must find this binary's context at sample time: --ctx-source sample, and
   * the binary allows it. Otherwise its threads' traces_ctx_v1 entries hold it.
   */
  public boolean sampleTimeContext(GoProgram program) {
    return sampleTimeContext && program.has(Probe.Feature.SAMPLE_CONTEXT);
  }

  /** Goroutine contexts by (tgid, goid), for a sampler that looks them up at sample time. */
  public BpfMap goroutinesMap() {
    return object.map("goroutines");
  }

  /** With --propagate: the client sockets this process opens from now on take part. */
  public synchronized void propagateFor(int pid) {
    requireOpen();
    if (propagation != null) {
      propagation.map("propagating_pids").update(LittleEndian.u32(pid), new byte[] {1});
    }
  }

  /**
   * Hands the span events written so far to the listener, then the span ends that found the ring
   * buffer full; returns how many there were.
   */
  public synchronized int drain() {
    requireOpen();
    // Taken before the ring buffer is read: the start of each of these spans is in it by now.
    List<byte[]> kept = takeAll(object.map("lost_ends"));
    try (Arena arena = Arena.ofConfined()) {
      for (byte[] end : kept) {
        keptEnds.add(SpanEventDecoder.decode(arena.allocate(end.length, 8).copyFrom(MemorySegment.ofArray(end)), strings));
      }
    }
    int n = events.consume();
    handKeptEndsBefore(Long.MAX_VALUE);
    return n + kept.size();
  }

  /**
   * Hands the kept span ends that came before {@code monotonicNanos} to the listener: each in its
   * place among the ring buffer's events, before what its goroutine did next.
   */
  private void handKeptEndsBefore(long monotonicNanos) {
    while (!keptEnds.isEmpty() && keptEnds.peek().monotonicNanos() <= monotonicNanos) {
      listener.accept(keptEnds.poll());
    }
  }

  /** The values of a map, each deleted as it is read. */
  private static List<byte[]> takeAll(BpfMap map) {
    List<byte[]> values = new ArrayList<>();
    for (byte[] key : map.keys()) {
      map.lookup(key).ifPresent(values::add);
      map.delete(key);
    }
    return values;
  }

  /**
   * Removes what a process that exited left behind in the maps: its threads' traces_ctx_v1
   * entries and its goroutines' state.
   */
  public synchronized void forgetProcess(int pid) {
    requireOpen();
    deleteKeysOfPid(object.map(TracesContextMap.NAME), pid, 4);
    for (String perProcess : PER_PROCESS_MAPS) {
      deleteKeysOfPid(object.map(perProcess), pid, 0);
    }
    deleteKeysOfPid(object.map("pending_sends"), pid, 4);
    if (propagation != null) {
      propagation.map("propagating_pids").delete(LittleEndian.u32(pid));
    }
    if (autoSdk != null) {
      for (String perProcess : AUTO_SDK_PER_PROCESS_MAPS) {
        deleteKeysOfPid(autoSdk.map(perProcess), pid, 0);
      }
    }
    autoSdkSwitches.forget(pid);
    seenPids.remove(pid);
    if (lastSeenPid == pid) {
      lastSeenPid = 0;
    }
    List<BpfLink> probes = linksOfPid.remove(pid);
    if (probes != null) { // probed for it alone (--pid, --min-process-age): its probes go with it
      links.removeAll(probes);
      detacher.later(probes, () -> {});
      attachedTo.removeIf(target -> target.endsWith("@" + pid));
    }
  }

  /**
   * Forgets a binary that no process runs any more: detaches its probes (in all processes; a
   * process's own probes went when it was forgotten) and frees its id for the next binary. A
   * binary that comes back is probed anew.
   */
  public synchronized void release(GoProgram program) {
    requireOpen();
    List<BpfLink> probes = java.util.Objects.requireNonNullElse(linksOfBinary.remove(program.identity()), List.of());
    links.removeAll(probes);
    attachedTo.removeIf(target -> target.startsWith(program.identity() + "@"));
    Integer id = binaryIds.remove(program.identity());
    if (id != null) {
      // Inert at once (its offsets read as "not set up"): should the binary run again while its old
      // probes are still being detached, only its new ones, under a new id, make events.
      object.map("binaries").update(LittleEndian.u32(id), new byte[(int) GoOffsets.LAYOUT.byteSize()]);
    }
    // The id is given to another binary only once no probe of this one can fire with it.
    detacher.later(probes, () -> {
      if (id != null) {
        freeBinaryIds.add(id);
      }
    });
  }

  /** Probes attached now (links), in all processes and per process, counting those being detached. */
  public synchronized int attachedProbes() {
    return links.size() + detacher.pending();
  }

  /** Binaries probed now. */
  public synchronized int probedBinaries() {
    return binaryIds.size();
  }

  /** Entries the maps hold for a process (tests check that an exited process leaves none). */
  public synchronized int entriesOf(int pid) {
    requireOpen();
    int n = countKeysOfPid(object.map(TracesContextMap.NAME), pid, 4) + countKeysOfPid(object.map("pending_sends"), pid, 4);
    for (String perProcess : PER_PROCESS_MAPS) {
      n += countKeysOfPid(object.map(perProcess), pid, 0);
    }
    if (autoSdk != null) {
      for (String perProcess : AUTO_SDK_PER_PROCESS_MAPS) {
        n += countKeysOfPid(autoSdk.map(perProcess), pid, 0);
      }
    }
    return n;
  }

  // Slots of tracer_stats (enum braid_stat of tracer.h; LayoutTest checks them against the object's BTF).
  static final int STAT_RINGBUF_FULL = 0;
  static final int STAT_GOROUTINE_MAP_FULL = 1;
  static final int STAT_READ_FAILED = 2;
  static final int STAT_PROPAGATED = 3;
  static final int STAT_PROPAGATE_SKIPPED = 4;
  static final int STAT_INHERITED = 5;
  static final int STAT_HEADERS_TOO_MANY = 6;
  static final int STAT_SELECT_TOO_BIG = 7;
  static final int STAT_APP_SPANS_FULL = 8;
  static final int STAT_AUTO_SDK_MISSED = 9;
  static final int STAT_AUTO_SDK_UNKNOWN = 10;
  static final int STAT_AUTO_SDK_LOST = 11;
  static final int STAT_END_KEPT = 12;
  static final int STAT_CTX_MAP_REFUSED = 13;
  static final int STAT_COUNT = 14;

  /** Counters of what the probes could not do, or did. */
  public synchronized Stats stats() {
    requireOpen();
    BpfMap s = object.map("tracer_stats");
    return new Stats(
        s.sumPerCpu(STAT_RINGBUF_FULL), s.sumPerCpu(STAT_GOROUTINE_MAP_FULL), s.sumPerCpu(STAT_READ_FAILED), s.sumPerCpu(STAT_PROPAGATED),
        s.sumPerCpu(STAT_PROPAGATE_SKIPPED), s.sumPerCpu(STAT_INHERITED), s.sumPerCpu(STAT_HEADERS_TOO_MANY), s.sumPerCpu(STAT_SELECT_TOO_BIG),
        s.sumPerCpu(STAT_APP_SPANS_FULL), s.sumPerCpu(STAT_END_KEPT), s.sumPerCpu(STAT_CTX_MAP_REFUSED),
        new AutoSdkStats(s.sumPerCpu(STAT_AUTO_SDK_MISSED), s.sumPerCpu(STAT_AUTO_SDK_UNKNOWN), s.sumPerCpu(STAT_AUTO_SDK_LOST), autoSdkSwitches.turnedOn(), autoSdkSwitches.failed()));
  }

  /**
   * Counters of tracer.bpf.c (tracer_stats).
   *
   * @param ringBufferFull span events that found the ring buffer full: lost, but for the ends kept
   * @param goroutineMapFull spans not started, or contexts not inherited, because a map was full
   * @param readFailed reads of process memory that failed
   * @param propagated outgoing requests that got a traceparent
   * @param propagationSkipped outgoing requests of client spans that did not (they had their own,
   *     or their bytes did not match)
   * @param inherited goroutines that inherited their parent's context
   * @param headersTooMany requests whose header map was too big to search whole for traceparent
   * @param selectTooBig buffered select operations not paired: more cases than the probes search
   * @param appSpansFull application spans not followed: no room in app_spans or goroutines
   * @param endsKept span ends that found the ring buffer full and were kept aside (lost_ends),
   *     read by {@link #drain()} with their exact time
   * @param contextMapRefused traces_ctx_v1 updates and deletes the kernel refused: after a refused
   *     update the thread showed no span until its next switch, never the one it showed before; a
   *     refused delete is tried again at the thread's next switch
   * @param autoSdk what --auto-sdk did
   */
  public record Stats(
      long ringBufferFull,
      long goroutineMapFull,
      long readFailed,
      long propagated,
      long propagationSkipped,
      long inherited,
      long headersTooMany,
      long selectTooBig,
      long appSpansFull,
      long endsKept,
      long contextMapRefused,
      AutoSdkStats autoSdk) {
    /** No tracer, nothing counted. */
    public static final Stats NONE = new Stats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, new AutoSdkStats(0, 0, 0, 0, 0));

    /** Span events the ring buffer had no room for and that are gone (the ends kept aside are not). */
    public long eventsLost() {
      return ringBufferFull - endsKept;
    }
  }

  /**
   * Counters of --auto-sdk (auto_sdk.bpf.c, and the switches turned on).
   *
   * @param missed spans that stayed the API's no-ops: their program made them before braid turned
   *     its SDK on
   * @param unknown spans that ended without a context from braid: they started before it
   * @param lost spans not exported: another thread's probe held the CPU's scratch buffer
   * @param processes processes braid became the SDK of
   * @param failed processes whose switch braid could not turn on (logged)
   */
  public record AutoSdkStats(long missed, long unknown, long lost, long processes, long failed) {}

  /** traces_ctx_v1 as this tracer shares it (for tests and the reader in standalone mode). */
  public BpfMap tracesContextMap() {
    return object.map(TracesContextMap.NAME);
  }

  /**
   * Detaches every probe: no event is written after this returns, and what is in the ring buffer
   * can still be drained. Idempotent.
   */
  public synchronized void detach() {
    List<BpfLink> all = List.copyOf(links);
    links.clear();
    detacher.now(all);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    try {
      // Inert first: a probe whose binary's offsets read as zero returns at once, so what is
      // deleted next stays deleted. Detaching comes last, as it is slow (~0.1 s a probe): a stop
      // cut short by a SIGKILL meanwhile leaves no entry behind.
      try {
        muteProbes();
      } finally {
        autoSdkSwitches.turnAllOff();
        removeOwnEntries();
      }
      try (detacher) { // closing waits for what exited processes and released binaries left
        detach();
      }
      // A probe already running when it was muted may have written an entry just after the sweep;
      // none runs once detached.
      removeOwnEntries();
    } finally {
      closed = true;
      events.close();
      if (propagation != null) {
        propagation.close();
      }
      if (autoSdk != null) {
        autoSdk.close();
      }
      object.close();
    }
  }

  /** Every probed binary's offsets set to zero, which the probes read as "not set up". */
  private void muteProbes() {
    byte[] zero = new byte[(int) GoOffsets.LAYOUT.byteSize()];
    for (int id : binaryIds.values()) {
      object.map("binaries").update(LittleEndian.u32(id), zero);
    }
  }

  /**
   * Entries of a binary's processes that are in the pin before braid probes them were left by a
   * writer that did not stop cleanly (a braid killed with SIGKILL): they are stale.
   */
  private void removeLeftovers(FileIdentity binary) {
    BpfMap ctx = object.map(TracesContextMap.NAME);
    for (byte[] key : ctx.keys()) {
      int pid = (int) (TracesContextMap.keyValue(key) >>> 32);
      if (FileIdentity.ofProcess(pid).filter(binary::equals).isPresent()) {
        ctx.delete(key);
      }
    }
  }

  private void removeOwnEntries() {
    BpfMap ctx = object.map(TracesContextMap.NAME);
    for (byte[] key : ctx.keys()) {
      int pid = (int) (TracesContextMap.keyValue(key) >>> 32);
      if (seenPids.contains(pid) || FileIdentity.ofProcess(pid).map(binaryIds::containsKey).orElse(false)) {
        ctx.delete(key);
      }
    }
  }

  /** Deletes the keys whose u32 at {@code pidOffset} is {@code pid}. */
  private static void deleteKeysOfPid(BpfMap map, int pid, int pidOffset) {
    for (byte[] key : map.keys()) {
      if (LittleEndian.u32At(key, pidOffset) == pid) {
        map.delete(key);
      }
    }
  }

  private static int countKeysOfPid(BpfMap map, int pid, int pidOffset) {
    int n = 0;
    for (byte[] key : map.keys()) {
      if (LittleEndian.u32At(key, pidOffset) == pid) {
        n++;
      }
    }
    return n;
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("tracer is closed");
    }
  }
}
