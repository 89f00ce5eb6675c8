package dev.braid.conformance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** braid's own writer, run as users run it: {@code braid run --exe ... --pin-path ...}. */
class BraidWriterConformanceTest extends TracesCtxV1WriterSuite {
  @Override
  protected WriterUnderTest start(Path pinRoot, Path executable) throws Exception {
    Path out = Files.createTempDirectory("braid-conformance");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.braid.correlator.cli.BraidCli"));
    cmd.addAll(List.of("run", "--exe", executable.toString(), "--pin-path", pinRoot.toString(), "--out", out.toString(), "--log-level", "warn"));
    Path stderr = out.resolve("stderr.txt");
    Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
    String first = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
    if (!"ready".equals(first)) {
      p.waitFor(30, TimeUnit.SECONDS);
      throw new WriterUnderTest.Refused(Files.readString(stderr));
    }
    return () -> {
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("braid did not stop within 30 s of SIGTERM");
      }
    };
  }
}
