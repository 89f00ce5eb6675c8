package dev.braid.elf.go;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.elf.ElfFile;
import dev.braid.elf.peers.GoToolchain;
import dev.braid.elf.peers.Peers;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** GoBuildInfo against {@code go version -m}. */
class GoBuildInfoTest {

  @ParameterizedTest
  @ValueSource(strings = {"shop", "shop-stripped", "shop-pie", "loadgen"})
  void matchesGoVersionDashM(String example) {
    Path binary = Peers.example(example);
    String[] lines = GoToolchain.primary().run("version", "-m", binary.toString()).split("\n");
    String version = lines[0].substring(lines[0].lastIndexOf(' ') + 1);
    String mainPath = "";
    Map<String, String> unquoted = new LinkedHashMap<>();
    for (String line : lines) {
      String[] f = line.split("\t");
      if (f.length >= 3 && f[1].equals("path")) {
        mainPath = f[2];
      } else if (f.length >= 3 && f[1].equals("build") && !f[2].contains("\"")) {
        unquoted.put(f[2].substring(0, f[2].indexOf('=')), f[2].substring(f[2].indexOf('=') + 1));
      }
    }
    try (ElfFile elf = ElfFile.open(binary)) {
      GoBuildInfo info = GoBuildInfo.read(elf).orElseThrow();
      assertThat(info.goVersionString()).isEqualTo(version);
      assertThat(info.version()).isEqualTo(GoVersion.parse(version));
      assertThat(info.mainPath()).isEqualTo(mainPath).startsWith("braid.dev/examples/");
      assertThat(info.settings()).containsAllEntriesOf(unquoted).containsEntry("GOARCH", "amd64");
    }
  }

  @Test
  void quotedSettingIsUnquoted() {
    Path stripped = Peers.example("shop-stripped");
    assertThat(GoToolchain.primary().run("version", "-m", stripped.toString())).contains("build\t-ldflags=\"-s -w\"");
    try (ElfFile elf = ElfFile.open(stripped)) {
      assertThat(GoBuildInfo.read(elf).orElseThrow().settings()).containsEntry("-ldflags", "-s -w");
    }
  }

  /** The modules a binary was built with: what go version -m lists as dep (with a replacement, its =>). */
  @Test
  void dependenciesAreWhatGoVersionMPrints() {
    Path grpc = Peers.example("grpcshop");
    Map<String, String> expected = new LinkedHashMap<>();
    String last = null;
    for (String line : GoToolchain.primary().run("version", "-m", grpc.toString()).lines().toList()) {
      String[] f = line.strip().split("\t");
      if (f[0].equals("dep")) {
        last = f[1];
        expected.put(f[1], f[2]);
      } else if (f[0].equals("=>")) {
        expected.put(last, f[2]);
      }
    }
    assertThat(expected).containsKey("google.golang.org/grpc");
    try (ElfFile elf = ElfFile.open(grpc)) {
      GoBuildInfo info = GoBuildInfo.read(elf).orElseThrow();
      assertThat(info.deps()).isEqualTo(expected);
      assertThat(info.dependency("google.golang.org/grpc")).hasValue(expected.get("google.golang.org/grpc"));
    }
  }

  @Test
  void parsesAReplacedDependencyAsItsReplacement() {
    GoBuildInfo info = GoBuildInfo.parse("go1.26.8", "path\texample.com/x\n"
        + "dep\tgoogle.golang.org/grpc\tv1.80.0\th1:abc=\n"
        + "=>\tgithub.com/fork/grpc\tv1.80.1-fork\th1:def=\n"
        + "dep\tgolang.org/x/net\tv0.60.0\th1:ghi=\n");
    assertThat(info.deps()).containsExactly(Map.entry("google.golang.org/grpc", "v1.80.1-fork"), Map.entry("golang.org/x/net", "v0.60.0"));
  }

  @Test
  void nonGoBinaryHasNone() {
    try (ElfFile elf = ElfFile.open(Path.of("/bin/true"))) {
      assertThat(GoBuildInfo.read(elf)).isEmpty();
    }
  }

  @Test
  void parsesQuotedKeysAndEscapes() {
    GoBuildInfo info = GoBuildInfo.parse("go1.26.8", "path\texample.com/x\n"
        + "build\t\"we ird\"=\"a\\tb \\\"c\\\" \\u00e9\\x41\"\n"
        + "build\t-tags=netgo\n"
        + "build\tbroken\n");
    assertThat(info.mainPath()).isEqualTo("example.com/x");
    assertThat(info.settings()).containsExactly(Map.entry("we ird", "a\tb \"c\" \u00e9A"), Map.entry("-tags", "netgo"));
  }
}
