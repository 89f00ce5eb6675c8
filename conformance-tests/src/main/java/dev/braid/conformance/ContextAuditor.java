package dev.braid.conformance;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.braid.bpf.BpfLink;
import dev.braid.bpf.BpfObject;
import dev.braid.bpf.LittleEndian;
import dev.braid.bpf.RingBufferReader;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.TracesContextMap;
import dev.braid.profiler.GoroutineLocator;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The suite's own reader of traces_ctx_v1 (bpf/src/main/c/auditor.bpf.c): a CPU clock at a high
 * rate on every CPU records, for each sample of an audited Go process, the thread's entry next to
 * the goroutine the thread runs, read from the Go runtime, not from anything a writer keeps.
 */
final class ContextAuditor implements AutoCloseable {
  static final String OBJECT = "/bpf/auditor.bpf.o";
  static final StructLayout EVENT =
      structLayout(
              JAVA_INT.withName("pid"),
              JAVA_INT.withName("tid"),
              JAVA_LONG.withName("time_ns"),
              JAVA_LONG.withName("goid"),
              JAVA_LONG.withName("pc"),
              JAVA_LONG.withName("caller"),
              JAVA_INT.withName("thread"),
              JAVA_INT.withName("has_context"),
              sequenceLayout(TraceContext.SIZE, JAVA_BYTE).withName("context"))
          .withName("audit_event");
  private static final long TIME = EVENT.byteOffset(groupElement("time_ns"));
  private static final long GOID = EVENT.byteOffset(groupElement("goid"));
  private static final long PC = EVENT.byteOffset(groupElement("pc"));
  private static final long CALLER = EVENT.byteOffset(groupElement("caller"));
  private static final long THREAD = EVENT.byteOffset(groupElement("thread"));
  private static final long HAS_CONTEXT = EVENT.byteOffset(groupElement("has_context"));
  private static final long CONTEXT = EVENT.byteOffset(groupElement("context"));

  /** What the sampled thread ran (AUDIT_* of auditor.h, in order). */
  enum Running {
    UNKNOWN,
    GOROUTINE,
    SYSTEM_STACK,
    SCHEDULER
  }

  /**
   * One sample: the thread's entry (empty: none), what it ran, and where in user code: {@code pc},
   * and {@code caller}, the return address its frame pointer leads to (0: unknown).
   */
  record Sample(int pid, int tid, long monotonicNanos, long goid, long pc, long caller, Running running, Optional<TraceContext> entry) {}

  private final BpfObject object;
  private final RingBufferReader events;
  private final List<BpfLink> links = new ArrayList<>();

  private ContextAuditor(BpfObject object, Consumer<Sample> listener) {
    this.object = object;
    this.events = new RingBufferReader(object.map("audit_events"), r -> listener.accept(decode(r)));
  }

  /** Loads the auditor on the pin under {@code pinRoot} and samples at {@code hz} on every CPU. */
  static ContextAuditor start(Path pinRoot, long hz, Consumer<Sample> listener) {
    BpfObject object = TracesContextMap.loadShared(OBJECT, pinRoot);
    ContextAuditor auditor;
    try {
      auditor = new ContextAuditor(object, listener);
    } catch (RuntimeException e) {
      object.close();
      throw e;
    }
    try {
      auditor.links.addAll(object.program("on_audit_sample").attachCpuClockOnEveryCpu(hz));
    } catch (RuntimeException e) {
      auditor.close();
      throw e;
    }
    return auditor;
  }

  void audit(int pid, GoroutineLocator locator) {
    object.map("audit_pids").update(LittleEndian.u32(pid), locator.toBytes());
  }

  /** Hands the samples taken so far to the listener. */
  int drain() {
    return events.consume();
  }

  /** Samples lost because the ring buffer was full. */
  long lost() {
    return object.map("audit_lost").sumPerCpu(0);
  }

  static Sample decode(MemorySegment r) {
    if (r.byteSize() < EVENT.byteSize()) {
      throw new IllegalArgumentException("audit_event of " + r.byteSize() + " bytes, want " + EVENT.byteSize());
    }
    Optional<TraceContext> entry = r.get(JAVA_INT, HAS_CONTEXT) != 0 ? Optional.of(TraceContext.read(r, CONTEXT)) : Optional.empty();
    int running = r.get(JAVA_INT, THREAD);
    return new Sample(r.get(JAVA_INT, 0), r.get(JAVA_INT, 4), r.get(JAVA_LONG, TIME), r.get(JAVA_LONG, GOID), r.get(JAVA_LONG, PC), r.get(JAVA_LONG, CALLER),
        running < Running.values().length ? Running.values()[running] : Running.UNKNOWN, entry);
  }

  @Override
  public void close() {
    links.forEach(BpfLink::close);
    links.clear();
    events.close();
    object.close();
  }
}
