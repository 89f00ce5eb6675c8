package dev.braid.elf.go;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class GoVersionTest {

  @Test
  void parsesReleasesAndPreReleases() {
    assertThat(GoVersion.parse("go1.26.8")).contains(new GoVersion(1, 26, 8));
    assertThat(GoVersion.parse("go1.21.0")).contains(new GoVersion(1, 21, 0));
    assertThat(GoVersion.parse("go1.22rc1")).contains(new GoVersion(1, 22, 0));
    assertThat(GoVersion.parse("go1.21beta2")).contains(new GoVersion(1, 21, 0));
    assertThat(GoVersion.parse("go1.21")).contains(new GoVersion(1, 21, 0));
    assertThat(GoVersion.parse("go1.23.1 X:nocoverageredesign")).contains(new GoVersion(1, 23, 1));
  }

  @Test
  void developmentAndGarbageAreEmpty() {
    assertThat(GoVersion.parse("devel go1.27-4f5e6a7 Tue Jan 1 00:00:00 2030 +0000")).isEmpty();
    assertThat(GoVersion.parse("")).isEmpty();
    assertThat(GoVersion.parse("1.26.8")).isEmpty();
    assertThat(GoVersion.parse("go1.x")).isEmpty();
    assertThat(GoVersion.parse(null)).isEmpty();
  }

  @Test
  void printsAsGoDoes() {
    GoVersion v = new GoVersion(1, 26, 8);
    assertThat(v).hasToString("go1.26.8");
    assertThat(v.release()).isEqualTo("go1.26");
    assertThat(GoVersion.parse("go1.22rc1").orElseThrow()).hasToString("go1.22.0");
  }

  @Test
  void ordersByMajorMinorPatch() {
    List<GoVersion> versions = new ArrayList<>(List.of(new GoVersion(1, 26, 0), new GoVersion(1, 9, 7),
        new GoVersion(1, 21, 10), new GoVersion(1, 21, 2), new GoVersion(2, 0, 0)));
    Collections.sort(versions);
    assertThat(versions).extracting(GoVersion::toString)
        .containsExactly("go1.9.7", "go1.21.2", "go1.21.10", "go1.26.0", "go2.0.0");
    assertThat(new GoVersion(1, 21, 0).atLeast(1, 21)).isTrue();
    assertThat(new GoVersion(1, 20, 9).atLeast(1, 21)).isFalse();
  }
}
