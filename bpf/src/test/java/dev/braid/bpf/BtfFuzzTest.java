package dev.braid.bpf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fuzzes braid's reading of BTF: the layout of a map another writer pinned comes to braid as BTF,
 * and braid walks its structs, typedefs and enums. Whatever libbpf's parser accepts, the walk may
 * only find a struct or not: no crash of the JVM, no exception. Seeds: the .BTF sections of braid's
 * own eBPF objects.
 */
class BtfFuzzTest {
  @MethodSource("btfOfBraidsObjects")
  @FuzzTest(maxDuration = "10m")
  @Timeout(10)
  void walk(byte[] raw) {
    Btf btf;
    try {
      btf = Btf.parse(raw);
    } catch (BpfException e) {
      return; // libbpf refused it, with the reason
    }
    try (btf) {
      for (int id = 0; id < 256; id++) {
        btf.structOf(id);
      }
      btf.struct("trace_context");
      btf.enumValues("braid_event");
    }
  }

  /** The .BTF section of every eBPF object braid builds (its own and its tests'). */
  static Stream<byte[]> btfOfBraidsObjects() throws IOException {
    List<byte[]> seeds = new ArrayList<>();
    for (Path dir : List.of(Path.of("target/classes/bpf"), Path.of("target/test-classes/bpf"))) {
      try (Stream<Path> objects = Files.list(dir)) {
        for (Path o : objects.filter(p -> p.toString().endsWith(".bpf.o")).sorted().toList()) {
          seeds.add(btfSection(o));
        }
      }
    }
    return seeds.stream();
  }

  private static byte[] btfSection(Path object) {
    try {
      Path out = Files.createTempFile("braid-btf", ".bin");
      try {
        Process p = new ProcessBuilder("llvm-objcopy", "--dump-section", ".BTF=" + out, object.toString(), "/dev/null")
            .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
          throw new IllegalStateException("llvm-objcopy --dump-section .BTF of " + object + ": " + output);
        }
        return Files.readAllBytes(out);
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
