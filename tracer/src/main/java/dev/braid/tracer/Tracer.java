package dev.braid.tracer;

import dev.braid.bpf.BpfLink;
import dev.braid.bpf.BpfMap;
import dev.braid.bpf.BpfObject;
import dev.braid.bpf.BpfProgram;
import dev.braid.bpf.LittleEndian;
import dev.braid.bpf.RingBufferReader;
import dev.braid.bpf.TracesContextMap;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The writer side: loads tracer.bpf.c, shares the pinned traces_ctx_v1, attaches the probes of
 * each {@link GoProgram} it is given (in every process running that binary, now and later), and
 * hands the decoded {@link SpanEvent}s to a listener when {@link #drain()} runs.
 *
 * <p>Owns the BPF object, the probes' links and the ring buffer. {@link #close()} detaches every
 * probe, then deletes every traces_ctx_v1 entry of the processes it traced (the pin itself stays:
 * other readers may hold it). Methods are synchronized; the listener runs on the draining thread.
 */
public final class Tracer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Tracer.class.getName());
  static final String OBJECT = "/bpf/tracer.bpf.o";
  // Indexes of tracer_stats (tracer.h).
  private static final int STAT_RINGBUF_FULL = 0;
  private static final int STAT_GOROUTINE_MAP_FULL = 1;
  private static final int STAT_READ_FAILED = 2;

  private final BpfObject object;
  private final RingBufferReader events;
  private final List<BpfLink> links = new ArrayList<>();
  private final Map<FileIdentity, Integer> binaryIds = new HashMap<>();
  private final Set<Integer> seenPids = new HashSet<>();
  private boolean closed;

  private Tracer(BpfObject object, Consumer<SpanEvent> listener) {
    this.object = object;
    this.events =
        new RingBufferReader(
            object.map("events"),
            record -> {
              SpanEvent e = SpanEventDecoder.decode(record);
              seenPids.add(e.pid());
              listener.accept(e);
            });
  }

  /**
   * Loads the writer and pins (or reuses) traces_ctx_v1 under {@code pinRoot}.
   *
   * @throws dev.braid.bpf.IncompatiblePinException when a map of another layout is pinned there
   * @throws dev.braid.bpf.BpfException when the kernel refuses the programs or maps
   */
  public static Tracer start(Path pinRoot, Consumer<SpanEvent> listener) {
    BpfObject object = TracesContextMap.loadShared(OBJECT, pinRoot);
    Tracer tracer;
    try {
      tracer = new Tracer(object, listener);
    } catch (RuntimeException e) {
      object.close();
      throw e;
    }
    try {
      tracer.links.add(object.program("thread_exit").attach());
    } catch (RuntimeException e) {
      tracer.close();
      throw e;
    }
    return tracer;
  }

  /**
   * Probes a binary in all its processes, present and future. Idempotent per file.
   *
   * @return the binary's id, as {@link SpanEvent.Started#binaryId()} reports it
   */
  public synchronized int instrument(GoProgram program) {
    requireOpen();
    Integer known = binaryIds.get(program.identity());
    if (known != null) {
      return known;
    }
    int id = binaryIds.size() + 1;
    object.map("binaries").update(LittleEndian.u32(id), program.offsets().toBytes());
    List<BpfLink> attached = new ArrayList<>();
    try {
      for (GoProgram.ProbeSite site : program.sites().values()) {
        BpfProgram prog = object.program(site.probe().program);
        attached.add(prog.attachUprobe(program.path(), site.fileOffset(), BpfProgram.ALL_PROCESSES, id));
      }
    } catch (RuntimeException e) {
      attached.forEach(BpfLink::close);
      object.map("binaries").delete(LittleEndian.u32(id));
      throw e;
    }
    links.addAll(attached);
    binaryIds.put(program.identity(), id);
    LOG.log(
        System.Logger.Level.DEBUG,
        () -> "probed " + program.path() + " (" + program.goVersion() + "): " + attached.size() + " probes");
    return id;
  }

  /** Hands the span events written so far to the listener; returns how many there were. */
  public synchronized int drain() {
    requireOpen();
    return events.consume();
  }

  /** Whether {@code pid} runs a binary this tracer probes. */
  public synchronized boolean traces(int pid) {
    return FileIdentity.ofProcess(pid).map(binaryIds::containsKey).orElse(false);
  }

  /**
   * Removes what a process that exited left behind in the maps: its threads' traces_ctx_v1
   * entries and its goroutines' state.
   */
  public synchronized void forgetProcess(int pid) {
    requireOpen();
    deleteKeysOfPid(object.map(TracesContextMap.NAME), pid, 4);
    deleteKeysOfPid(object.map("goroutine_ctx"), pid, 0);
    deleteKeysOfPid(object.map("server_spans"), pid, 0);
    seenPids.remove(pid);
  }

  /** Counters of events the probes could not report. */
  public synchronized Stats stats() {
    requireOpen();
    BpfMap s = object.map("tracer_stats");
    return new Stats(s.sumPerCpu(STAT_RINGBUF_FULL), s.sumPerCpu(STAT_GOROUTINE_MAP_FULL), s.sumPerCpu(STAT_READ_FAILED));
  }

  /**
   * @param ringBufferFull span events lost because the ring buffer was full
   * @param goroutineMapFull spans not started because the goroutine maps were full
   * @param readFailed reads of process memory that failed
   */
  public record Stats(long ringBufferFull, long goroutineMapFull, long readFailed) {}

  /** traces_ctx_v1 as this tracer shares it (for tests and the reader in standalone mode). */
  public BpfMap tracesContextMap() {
    return object.map(TracesContextMap.NAME);
  }

  /**
   * Detaches every probe: no event is written after this returns, and what is in the ring buffer
   * can still be drained. Idempotent.
   */
  public synchronized void detach() {
    for (BpfLink link : links) {
      link.close();
    }
    links.clear();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    try {
      // Detach first: after this no probe writes, so what is deleted next stays deleted.
      detach();
      removeOwnEntries();
    } finally {
      closed = true;
      events.close();
      object.close();
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

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("tracer is closed");
    }
  }

}
