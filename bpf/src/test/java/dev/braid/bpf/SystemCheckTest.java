package dev.braid.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SystemCheckTest {
  @Test
  void rootHasThePrivileges() {
    String status = "Name:\tx\nCapEff:\t000001ffffffffff\nSeccomp:\t2\n";
    assertThat(SystemCheck.privileges(SystemCheck.effectiveCapabilities(status), SystemCheck.seccompMode(status)).ok()).isTrue();
    assertThat(SystemCheck.otherProcesses(SystemCheck.effectiveCapabilities(status)).ok()).isTrue();
  }

  @Test
  void bpfAndPerfmonSufficeWithoutASeccompFilter() {
    assertThat(SystemCheck.privileges((1L << 39) | (1L << 38), 0).ok()).isTrue();
  }

  /** Podman's default seccomp profile answers EPERM to bpf() without CAP_SYS_ADMIN (measured: the image run with --cap-add BPF,PERFMON). */
  @Test
  void bpfAndPerfmonUnderASeccompFilterAreToldToAddSysAdmin() {
    SystemCheck.Check check = SystemCheck.privileges((1L << 39) | (1L << 38), SystemCheck.seccompMode("Seccomp:\t2\nSeccomp_filters:\t1\n"));
    assertThat(check.ok()).isFalse();
    assertThat(check.render()).contains("under a seccomp filter").contains("--cap-add SYS_ADMIN --cap-add SYS_PTRACE");
  }

  @Test
  void anUnprivilegedProcessIsToldTheFix() {
    SystemCheck.Check check = SystemCheck.privileges(SystemCheck.effectiveCapabilities("CapEff:\t0000000000000000\n"), 0);
    assertThat(check.ok()).isFalse();
    assertThat(check.render()).contains("FAIL  privileges: no BPF privileges").contains("fix: run as root");
  }

  @Test
  void withoutSysPtraceOtherProcessesAreHidden() {
    SystemCheck.Check check = SystemCheck.otherProcesses(1L << 21);
    assertThat(check.ok()).isFalse();
    assertThat(check.render()).contains("no CAP_SYS_PTRACE").contains("--cap-add SYS_PTRACE");
  }

  @Test
  void aMissingPinPathIsNamed() {
    SystemCheck.Check check = SystemCheck.bpffs(Path.of("/tmp/missing-" + System.nanoTime()));
    assertThat(check.ok()).isFalse();
    assertThat(check.detail()).endsWith("does not exist");
  }

  @Test
  void aDirectoryOnAnotherFileSystemIsNotBpffs(@org.junit.jupiter.api.io.TempDir Path dir) {
    SystemCheck.Check check = SystemCheck.bpffs(dir);
    assertThat(check.ok()).isFalse();
    assertThat(check.detail()).contains(", not bpffs");
    assertThat(check.fix()).startsWith("mount -t bpf bpf " + dir);
  }

  @Test
  void aDirectoryInsideBpffsIsBpffs() {
    dev.braid.bpf.testing.Kernel.requireBpffs(Path.of("/sys/fs/bpf"));
    assertThat(SystemCheck.fileSystemType(Path.of("/sys/fs/bpf/some/dir"))).isEqualTo("bpf");
    assertThat(SystemCheck.fileSystemType(Path.of("/proc/self"))).isEqualTo("proc");
  }

  @Test
  void failuresListOnlyFailedChecks() {
    assertThat(SystemCheck.failures(java.util.List.of(new SystemCheck.Check("a", true, "fine", "")))).isEmpty();
    assertThat(SystemCheck.failures(java.util.List.of(new SystemCheck.Check("b", false, "broken", "mend it"))))
        .contains("FAIL  b: broken\n      fix: mend it");
  }

  /** A peer that raises RLIMIT_MEMLOCK (opentelemetry-ebpf-profiler) can only where the hard limit allows it: a warning, not a failure. */
  @Test
  void aMemlockLimitBelowUnlimitedIsAWarningForPeers() {
    String header = "Limit                     Soft Limit           Hard Limit           Units     \n";
    SystemCheck.Check capped = SystemCheck.memlock(header + "Max locked memory         8388608              8388608              bytes     \n");
    assertThat(capped.ok()).isFalse();
    assertThat(capped.renderForPeer()).startsWith("warn  memlock: RLIMIT_MEMLOCK soft 8388608, hard 8388608 bytes").contains("ulimit -l unlimited");
    assertThat(SystemCheck.memlock(header + "Max locked memory         65536                unlimited            bytes     \n").ok()).isTrue();
    assertThat(SystemCheck.memlock("").detail()).isEqualTo("RLIMIT_MEMLOCK unknown");
  }
}
