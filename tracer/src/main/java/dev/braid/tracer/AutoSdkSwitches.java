package dev.braid.tracer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * --auto-sdk: turns on, in a process, the OpenTelemetry Go API's switch to
 * go.opentelemetry.io/auto/sdk (the bool that otel/internal/global's autoInstEnabled points to),
 * by writing {@code true} through /proc/PID/mem, as a debugger would. Kernels locked down for
 * integrity refuse bpf_probe_write_user, not this. Used by the draining thread only.
 */
final class AutoSdkSwitches {
  private static final System.Logger LOG = System.getLogger(AutoSdkSwitches.class.getName());
  private final Set<Integer> on = new HashSet<>();
  private long turnedOn;
  private long failed;

  /** Turns on the switch at {@code address} in process {@code pid}, once per process. */
  void turnOn(int pid, long address) {
    if (!on.add(pid)) {
      return;
    }
    try (FileChannel mem = FileChannel.open(Path.of("/proc", Integer.toString(pid), "mem"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (mem.write(ByteBuffer.wrap(new byte[] {1}), address) != 1) {
        throw new IOException("nothing was written");
      }
      turnedOn++;
      LOG.log(System.Logger.Level.INFO, "--auto-sdk: braid is now the OpenTelemetry SDK of process " + pid);
    } catch (IOException | RuntimeException e) {
      failed++;
      LOG.log(System.Logger.Level.WARNING, "--auto-sdk: cannot turn on go.opentelemetry.io/auto/sdk in process " + pid + " (writing /proc/" + pid
          + "/mem at 0x" + Long.toHexString(address) + ": " + e.getMessage() + "); its OpenTelemetry API spans stay no-ops."
          + " braid needs root (CAP_SYS_PTRACE) for this, and a process it may trace (ptrace_scope, Yama)");
    }
  }

  /** A process exited: its pid may come back as another process. */
  void forget(int pid) {
    on.remove(pid);
  }

  long turnedOn() {
    return turnedOn;
  }

  long failed() {
    return failed;
  }
}
