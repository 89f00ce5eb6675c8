package dev.braid.tracer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * --auto-sdk: turns on, in a process, the OpenTelemetry Go API's switch to
 * go.opentelemetry.io/auto/sdk (the bool that otel/internal/global's autoInstEnabled points to),
 * by writing {@code true} through /proc/PID/mem, as a debugger would (kernels locked down for
 * integrity refuse bpf_probe_write_user, not this); and off again when braid stops, so that a
 * process braid no longer serves does not go on serializing spans nobody reads. Used by the
 * draining thread, and by close.
 */
final class AutoSdkSwitches {
  private static final System.Logger LOG = System.getLogger(AutoSdkSwitches.class.getName());
  private final Map<Integer, Switch> on = new HashMap<>();
  private long turnedOn;
  private long failed;

  /** A switch braid turned on: the process (its binary, for a pid used again) and the address. */
  private record Switch(FileIdentity binary, long address) {}

  /**
   * Turns on the switch at {@code address} in process {@code pid}, once per process, if the
   * process still runs {@code binary}. False when it does not (it exited, or exec'd another
   * program): the probes may ask again.
   */
  synchronized boolean turnOn(int pid, FileIdentity binary, long address) {
    if (on.containsKey(pid)) {
      return true;
    }
    if (!FileIdentity.ofProcess(pid).equals(Optional.of(binary))) {
      LOG.log(System.Logger.Level.DEBUG, () -> "--auto-sdk: process " + pid + " no longer runs the binary that asked for its switch");
      return false;
    }
    try {
      write(pid, address, (byte) 1);
      on.put(pid, new Switch(binary, address));
      turnedOn++;
      LOG.log(System.Logger.Level.INFO, "--auto-sdk: braid is now the OpenTelemetry SDK of process " + pid);
    } catch (IOException | RuntimeException e) {
      failed++;
      on.put(pid, new Switch(binary, 0)); // tried: not again for this process
      LOG.log(System.Logger.Level.WARNING, "--auto-sdk: cannot turn on go.opentelemetry.io/auto/sdk in process " + pid + " (writing /proc/" + pid
          + "/mem at 0x" + Long.toHexString(address) + ": " + e.getMessage() + "); its OpenTelemetry API spans stay no-ops."
          + " braid needs root (CAP_SYS_PTRACE) for this, and a process it may trace (ptrace_scope, Yama)");
    }
    return true;
  }

  /** Turns every switch braid turned on off again, in the processes that still run their binary. */
  synchronized void turnAllOff() {
    on.forEach((pid, s) -> {
      if (s.address() == 0 || !FileIdentity.ofProcess(pid).equals(Optional.of(s.binary()))) {
        return;
      }
      try {
        // Only a switch that is on: a process that exec'd itself anew has other memory at the address.
        if (read(pid, s.address()) == 1) {
          write(pid, s.address(), (byte) 0);
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "--auto-sdk: cannot turn go.opentelemetry.io/auto/sdk off again in process " + pid + ": " + e.getMessage()
            + "; its OpenTelemetry API spans go on being serialized, for no one");
      }
    });
    on.clear();
  }

  /** A process exited: its pid may come back as another process. */
  synchronized void forget(int pid) {
    on.remove(pid);
  }

  synchronized long turnedOn() {
    return turnedOn;
  }

  synchronized long failed() {
    return failed;
  }

  private static byte read(int pid, long address) throws IOException {
    try (FileChannel mem = memory(pid, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      if (mem.read(b, address) != 1) {
        throw new IOException("nothing could be read");
      }
      return b.get(0);
    }
  }

  private static void write(int pid, long address, byte value) throws IOException {
    try (FileChannel mem = memory(pid, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (mem.write(ByteBuffer.wrap(new byte[] {value}), address) != 1) {
        throw new IOException("nothing was written");
      }
    }
  }

  private static FileChannel memory(int pid, StandardOpenOption... how) throws IOException {
    return FileChannel.open(Path.of("/proc", Integer.toString(pid), "mem"), how);
  }
}
