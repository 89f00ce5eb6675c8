package dev.braid.daemon.cli;

import dev.braid.bpf.BpfNotSupportedException;
import dev.braid.bpf.IncompatiblePinException;
import dev.braid.bpf.SystemCheck;
import dev.braid.tracer.UnsupportedBinaryException;
import java.nio.file.Path;
import java.util.function.Supplier;

/** Turns what the user can fix into {@link UsageException}s (exit 2) with doctor's words. */
final class RuntimeGate {
  private RuntimeGate() {}

  /** Fails with the doctor's failed checks when braid cannot run here. */
  static void requireRunnable(Path pinRoot) {
    SystemCheck.failures(SystemCheck.runtimeChecks(pinRoot))
        .ifPresent(f -> {
          throw new UsageException("braid cannot run here:\n" + f + "\n(./braid doctor checks everything)");
        });
  }

  /** Runs a start-up step, translating the failures a user can fix. */
  static <T> T starting(Supplier<T> step) {
    try {
      return step.get();
    } catch (UnsupportedBinaryException e) {
      throw new UsageException("cannot trace " + e.getMessage(), e);
    } catch (IncompatiblePinException | BpfNotSupportedException e) {
      throw new UsageException(e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage(), e);
    }
  }
}
