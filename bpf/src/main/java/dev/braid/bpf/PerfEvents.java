package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** {@code perf_event_open(2)} for the events braid samples with. */
final class PerfEvents {
  private static final long SYS_PERF_EVENT_OPEN = 298; // x86-64
  private static final int PERF_TYPE_SOFTWARE = 1;
  private static final long PERF_COUNT_SW_CPU_CLOCK = 0;
  private static final int ATTR_SIZE = 128; // PERF_ATTR_SIZE_VER7, known since Linux 6.3; older kernels accept zero tails
  private static final long FLAG_DISABLED = 1L; // enabled by libbpf once the program is attached
  private static final long FLAG_FREQ = 1L << 10; // sample_freq, not sample_period
  private static final long PERF_FLAG_FD_CLOEXEC = 8;

  private PerfEvents() {}

  /** A CPU-clock event on one CPU for every task, {@code hz} samples a second. */
  static int openCpuClock(int cpu, long hz) {
    if (hz <= 0) {
      throw new IllegalArgumentException("sample frequency must be positive: " + hz);
    }
    try (Arena call = Arena.ofConfined()) {
      MemorySegment attr = call.allocate(ATTR_SIZE);
      attr.set(JAVA_INT, 0, PERF_TYPE_SOFTWARE);
      attr.set(JAVA_INT, 4, ATTR_SIZE);
      attr.set(JAVA_LONG, 8, PERF_COUNT_SW_CPU_CLOCK);
      attr.set(JAVA_LONG, 16, hz);
      attr.set(JAVA_LONG, 40, FLAG_DISABLED | FLAG_FREQ);
      MemorySegment errno = Libbpf.newErrnoState(call);
      long fd = (long) Libbpf.C.SYSCALL_PERF_EVENT_OPEN.invokeExact(errno, SYS_PERF_EVENT_OPEN, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
      if (fd < 0) {
        int e = Libbpf.errno(errno);
        String where = "perf_event_open cpu-clock on cpu " + cpu;
        if (e == Errno.EACCES || e == Errno.EPERM) {
          throw new BpfNotSupportedException(
              where, e, "sampling every task needs CAP_PERFMON (or root), or kernel.perf_event_paranoid <= -1");
        }
        throw new BpfAttachException(where, e, "");
      }
      return (int) fd;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }
}
