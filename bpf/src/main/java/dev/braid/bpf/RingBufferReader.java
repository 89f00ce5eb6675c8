package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Reads a {@code BPF_MAP_TYPE_RINGBUF} map. Programs write with {@code BPF_RB_NO_WAKEUP}, so
 * nobody is woken per event: the owner calls {@link #consume()} on a timer (every 100-250 ms),
 * which hands each record to the handler on the calling thread.
 *
 * <p>The segment given to the handler is valid only during the call: decode, don't keep it. A
 * handler that throws loses that one record (counted in {@link #handlerFailures()}); the
 * exception never reaches libbpf. Owns the {@code ring_buffer*} and the upcall stub; close after
 * the last consume. {@link #consume()} must not run on two threads at once.
 */
public final class RingBufferReader implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RingBufferReader.class.getName());

  private final String name;
  private final Consumer<MemorySegment> handler;
  private final Arena arena = Arena.ofShared();
  private final AtomicLong handlerFailures = new AtomicLong();
  private MemorySegment handle;

  public RingBufferReader(BpfMap ringBuffer, Consumer<MemorySegment> handler) {
    this.name = ringBuffer.name();
    this.handler = handler;
    try {
      MemorySegment callback =
          Libbpf.linker()
              .upcallStub(
                  MethodHandles.lookup()
                      .findVirtual(
                          RingBufferReader.class,
                          "onRecord",
                          MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class))
                      .bindTo(this),
                  FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG),
                  arena);
      try (Arena call = Arena.ofConfined()) {
        MemorySegment errno = Libbpf.newErrnoState(call);
        LibbpfLog.begin();
        handle =
            (MemorySegment)
                Libbpf.H.RING_BUFFER_NEW.invokeExact(errno, ringBuffer.fd(), callback, MemorySegment.NULL, MemorySegment.NULL);
        if (handle.equals(MemorySegment.NULL)) {
          throw new BpfMapException("ring buffer " + name + ": open", Libbpf.errno(errno), LibbpfLog.recent());
        }
      }
    } catch (Throwable t) {
      arena.close();
      throw Libbpf.rethrow(t);
    }
  }

  /** Hands every record written so far to the handler; returns how many there were. */
  public int consume() {
    if (handle == null) {
      throw new IllegalStateException("ring buffer " + name + " is closed");
    }
    int n;
    try {
      n = (int) Libbpf.H.RING_BUFFER_CONSUME.invokeExact(handle);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
    if (n < 0) {
      throw new BpfMapException("ring buffer " + name + ": consume", -n, "");
    }
    return n;
  }

  /** Records whose handler threw. */
  public long handlerFailures() {
    return handlerFailures.get();
  }

  @SuppressWarnings("unused") // called by libbpf
  private int onRecord(MemorySegment ctx, MemorySegment data, long size) {
    try {
      handler.accept(data.reinterpret(size));
    } catch (Throwable t) {
      if (handlerFailures.getAndIncrement() == 0) {
        LOG.log(System.Logger.Level.ERROR, "ring buffer " + name + ": a record could not be handled; later failures are only counted", t);
      }
    }
    return 0;
  }

  @Override
  public void close() {
    if (handle == null) {
      return;
    }
    try {
      Libbpf.H.RING_BUFFER_FREE.invokeExact(handle);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    } finally {
      handle = null;
      arena.close();
    }
  }
}
