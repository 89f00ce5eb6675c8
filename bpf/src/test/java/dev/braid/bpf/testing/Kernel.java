package dev.braid.bpf.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.braid.bpf.SystemCheck;
import java.nio.file.Path;

/**
 * Preconditions of kernel tests. Outside CI a missing privilege skips the test with the reason;
 * under {@code CI=true} it fails it, because CI runs as root on a kernel that has every feature.
 */
public final class Kernel {
  private Kernel() {}

  public static boolean inCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /** The process may load and attach BPF programs. */
  public static void requireBpf() {
    SystemCheck.Check check = SystemCheck.privileges();
    if (!check.ok()) {
      skipOrFail(check.detail() + "; " + check.fix());
    }
  }

  /** bpffs is mounted at {@code root}. */
  public static void requireBpffs(Path root) {
    try {
      dev.braid.bpf.TracesContextMap.requireBpffs(root);
    } catch (RuntimeException e) {
      skipOrFail(e.getMessage());
    }
  }

  public static void skipOrFail(String reason) {
    if (inCi()) {
      fail("kernel test cannot run under CI=true: " + reason);
    }
    assumeTrue(false, reason);
  }
}
