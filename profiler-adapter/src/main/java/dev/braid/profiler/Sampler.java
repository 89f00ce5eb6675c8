package dev.braid.profiler;

import dev.braid.bpf.BpfLink;
import dev.braid.bpf.BpfMap;
import dev.braid.bpf.BpfObject;
import dev.braid.bpf.LittleEndian;
import dev.braid.bpf.RingBufferReader;
import dev.braid.bpf.TracesContextMap;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The reader side: a CPU clock on every online CPU runs sampler.bpf.c, which takes the user and
 * kernel stacks and stamps them with the thread's traces_ctx_v1 entry; {@link #drain()} hands the
 * decoded {@link StackSample}s to a listener.
 *
 * <p>Owns the BPF object, one perf-event link per CPU and the ring buffer. Samples only the
 * processes added with {@link #addProcess} unless started with {@code allProcesses}. Methods are
 * synchronized; the listener runs on the draining thread.
 */
public final class Sampler implements AutoCloseable {
  static final String OBJECT = "/bpf/sampler.bpf.o";

  private final BpfObject object;
  private final RingBufferReader samples;
  private final List<BpfLink> links = new ArrayList<>();
  private boolean closed;

  private Sampler(BpfObject object, Consumer<StackSample> listener) {
    this.object = object;
    this.samples = new RingBufferReader(object.map("samples"), r -> listener.accept(SampleEventDecoder.decode(r)));
  }

  /**
   * Loads the sampler, shares traces_ctx_v1 under {@code pinRoot} (pinning it if no writer has),
   * and starts sampling at {@code frequencyHz} on every online CPU.
   */
  public static Sampler start(Path pinRoot, long frequencyHz, boolean allProcesses, Consumer<StackSample> listener) {
    return start(pinRoot, frequencyHz, allProcesses, Optional.empty(), listener);
  }

  /**
   * As {@link #start(Path, long, boolean, Consumer)}; with {@code goroutines}, the tracer's map of
   * goroutine contexts, processes added with a {@link GoroutineLocator} take their samples'
   * context from the goroutine running at sample time.
   */
  public static Sampler start(Path pinRoot, long frequencyHz, boolean allProcesses, Optional<BpfMap> goroutines, Consumer<StackSample> listener) {
    BpfObject object =
        TracesContextMap.loadShared(
            OBJECT,
            pinRoot,
            o -> {
              if (goroutines.isPresent()) {
                o.map("goroutines").reuseFd(goroutines.get().fd());
              } else {
                o.map("goroutines").setMaxEntries(1); // unused: a placeholder
              }
            });
    Sampler sampler;
    try {
      object.map("sampler_config").update(LittleEndian.u32(0), LittleEndian.u32(allProcesses ? 1 : 0));
      sampler = new Sampler(object, listener);
    } catch (RuntimeException e) {
      object.close();
      throw e;
    }
    try {
      sampler.links.addAll(object.program("on_cpu_sample").attachCpuClockOnEveryCpu(frequencyHz));
    } catch (RuntimeException e) {
      sampler.close();
      throw e;
    }
    return sampler;
  }

  /** Samples this process from now on, with the context of its threads' traces_ctx_v1 entries. */
  public synchronized void addProcess(int pid) {
    requireOpen();
    object.map("sample_pids").update(LittleEndian.u32(pid), GoroutineLocator.NONE.toBytes());
  }

  /**
   * Samples this process from now on, with the context of the goroutine running at sample time
   * (needs the goroutines map given to {@link #start(Path, long, boolean, Optional, Consumer)}).
   */
  public synchronized void addProcess(int pid, GoroutineLocator locator) {
    requireOpen();
    object.map("sample_pids").update(LittleEndian.u32(pid), locator.toBytes());
  }

  public synchronized void removeProcess(int pid) {
    requireOpen();
    object.map("sample_pids").delete(LittleEndian.u32(pid));
  }

  /** Hands the samples taken so far to the listener; returns how many there were. */
  public synchronized int drain() {
    requireOpen();
    return samples.consume();
  }

  /** Samples lost because the ring buffer was full. */
  public synchronized long lostSamples() {
    requireOpen();
    BpfMap stats = object.map("sampler_stats");
    return stats.sumPerCpu(0);
  }

  /** Samples whose goroutine could not be read (--ctx-source sample): they carry no context. */
  public synchronized long goroutineReadFailures() {
    requireOpen();
    return object.map("sampler_stats").sumPerCpu(1);
  }

  /** Stops sampling; samples already taken can still be drained. Idempotent. */
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
    closed = true;
    try {
      detach();
    } finally {
      samples.close();
      object.close();
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("sampler is closed");
    }
  }

}
