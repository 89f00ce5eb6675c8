package dev.braid.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.examples.ExampleService;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release tarball, unpacked as a user would, runs with nothing of the build around it: an
 * empty environment (no JAVA_HOME, no Go, no Maven on PATH), its own Java runtime and libbpf. Its
 * output is checked against what was sent: each request's span, and the CPU samples of the one
 * that burned CPU, linked to its span and taken in the function that burns it.
 */
class ReleaseIT {
  private static final String BURN_TRACE = "0af7651916cd43dd8448eb211c8031c0";
  @TempDir Path unpacked;
  @TempDir Path out;

  /** The tarball, unpacked into the test's empty directory: the release's home. */
  private Path unpack() throws Exception {
    Path tarball = Release.tarball();
    assertThat(tarball).as("the release: ./braid dist makes it").exists();
    assertThat(new ProcessBuilder("tar", "-C", unpacked.toString(), "-xzf", tarball.toString()).inheritIO().start().waitFor()).isZero();
    return unpacked.resolve(Release.NAME);
  }

  @Test
  void theUnpackedReleaseTracesAServiceWithNothingButItself() throws Exception {
    Kernel.requireBpf();
    Figures.record("release tarball size (MiB)", Files.size(Release.tarball()) >> 20, "reported");
    Path home = unpack();
    Path braid = home.resolve("bin/braid");

    try (ExampleService shop = ExampleService.start(home.resolve("examples/shop"), "-addr", "127.0.0.1:0");
        PinRoot pins = PinRoot.create()) {
      ProcessBuilder run = new ProcessBuilder(braid.toString(), "run", "--pid", Integer.toString(shop.pid()), "--out", out.toString(),
          "--pin-path", pins.path().toString(), "--duration", "10s", "--flush-interval", "1s", "--sample-hz", "499").redirectErrorStream(true);
      run.environment().clear();
      run.environment().putAll(Map.of("PATH", "/usr/bin:/bin", "OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci,k8s.node.name=node%201"));
      long start = System.nanoTime();
      Process daemon = run.start();
      List<String> output = new ArrayList<>();
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(daemon.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null && !line.equals("ready")) {
          output.add(line);
        }
        assertThat(line).as("braid said ready; it printed:\n%s", String.join("\n", output)).isEqualTo("ready");
        Figures.atMost("release start-up to ready (ms)", (System.nanoTime() - start) / 1_000_000, 30_000);
        for (int i = 1; i <= 3; i++) {
          assertThat(Release.get(shop.url() + "/hello", "0af7651916cd43dd8448eb211c8031a" + i)).isEqualTo(200);
        }
        assertThat(Release.get(shop.url() + "/checkout?ms=300", BURN_TRACE)).isEqualTo(200);
        lines.transferTo(java.io.Writer.nullWriter());
      }
      assertThat(daemon.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(daemon.exitValue()).as("braid's exit status").isZero();
    }

    List<Release.ExportedSpan> spans = Release.spans(out.resolve("traces.jsonl"));
    Release.serverSpan(spans, BURN_TRACE);
    List<Release.ProfiledSample> burning = Release.samples(out.resolve("profiles.jsonl")).stream().filter(s -> s.traceId().equals(BURN_TRACE)).toList();
    Figures.atLeast("samples linked to the 300 ms CPU burn's span", burning.size(), 20);
    Figures.atLeast("of those, taken in main.priceCart (%)", 100 * burning.stream().filter(s -> s.functions().contains("main.priceCart")).count() / burning.size(), 80);
    for (int i = 1; i <= 3; i++) {
      Map<String, String> resource = Release.serverSpan(spans, "0af7651916cd43dd8448eb211c8031a" + i).resource();
      assertThat(resource).containsEntry("service.name", "shop").containsEntry("deployment.environment.name", "ci")
          .containsEntry("k8s.node.name", "node 1").containsEntry("process.executable.path", home.resolve("examples/shop").toString()).containsKey("host.name");
    }
  }

  @Test
  void itsDoctorChecksOnlyWhatARunNeeds() throws Exception {
    Path home = unpack();
    ProcessBuilder doctor = new ProcessBuilder(home.resolve("bin/braid").toString(), "doctor").redirectErrorStream(true);
    doctor.environment().clear();
    doctor.environment().put("PATH", "/usr/bin:/bin");
    Process p = doctor.start();
    String report = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    assertThat(report).contains("libbpf: found " + home.resolve("lib/native/libbpf.so.1") + " (bundled)")
        .doesNotContain("clang", "Go:", "JDK");
  }
}
