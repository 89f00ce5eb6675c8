package dev.braid.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SystemCheckTest {
  @Test
  void rootHasThePrivileges() {
    assertThat(SystemCheck.privileges(SystemCheck.effectiveCapabilities("Name:\tx\nCapEff:\t000001ffffffffff\n")).ok()).isTrue();
  }

  @Test
  void bpfAndPerfmonSuffice() {
    assertThat(SystemCheck.privileges((1L << 39) | (1L << 38)).ok()).isTrue();
  }

  @Test
  void anUnprivilegedProcessIsToldTheFix() {
    SystemCheck.Check check = SystemCheck.privileges(SystemCheck.effectiveCapabilities("CapEff:\t0000000000000000\n"));
    assertThat(check.ok()).isFalse();
    assertThat(check.render()).contains("FAIL  privileges: no BPF privileges").contains("fix: run as root");
  }

  @Test
  void aDirectoryThatIsNoMountIsNotBpffs() {
    SystemCheck.Check check = SystemCheck.bpffs(Path.of("/tmp/not-a-mount-" + System.nanoTime()));
    assertThat(check.ok()).isFalse();
    assertThat(check.fix()).startsWith("mount -t bpf bpf /tmp/not-a-mount-");
  }

  @Test
  void failuresListOnlyFailedChecks() {
    assertThat(SystemCheck.failures(java.util.List.of(new SystemCheck.Check("a", true, "fine", "")))).isEmpty();
    assertThat(SystemCheck.failures(java.util.List.of(new SystemCheck.Check("b", false, "broken", "mend it"))))
        .contains("FAIL  b: broken\n      fix: mend it");
  }
}
