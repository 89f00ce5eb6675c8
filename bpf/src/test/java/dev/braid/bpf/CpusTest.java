package dev.braid.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CpusTest {
  @Test
  void parsesRangesAndSingles() {
    assertThat(Cpus.parse("0-3,8,10-11\n")).containsExactly(0, 1, 2, 3, 8, 10, 11);
  }

  @Test
  void parsesOneCpu() {
    assertThat(Cpus.parse("0")).containsExactly(0);
  }
}
