package dev.braid.examples;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the Go programs of examples/ are built ({@code examples/target/bin}): the demo, the tests
 * and the benchmarks run them from there.
 */
public final class Examples {
  private Examples() {}

  /**
   * The binary directory: {@code -Dbraid.examples.bin} (the build sets it for tests and
   * benchmarks), else found from where this class was loaded in a braid checkout.
   */
  public static Path bin() {
    List<Path> candidates = new ArrayList<>();
    String explicit = System.getProperty("braid.examples.bin");
    if (explicit != null) {
      return Path.of(explicit);
    }
    try {
      // examples/target/classes or examples/target/braid-examples.jar
      Path loadedFrom = Path.of(Examples.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path target = loadedFrom.getParent();
      candidates.add(target.resolve("bin"));
      candidates.add(target.getParent().getParent().resolve("examples/target/bin"));
    } catch (URISyntaxException | SecurityException | NullPointerException e) {
      // no code source: fall through to the working directory
    }
    candidates.add(Path.of("examples/target/bin"));
    return candidates.stream().filter(Files::isDirectory).findFirst().orElse(candidates.getFirst());
  }

  /** One example binary, such as {@code shop}; fails with the fix when it was not built. */
  public static Path binary(String name) {
    Path p = bin().resolve(name);
    if (!Files.isExecutable(p)) {
      throw new IllegalStateException(p + " is missing: build the examples first (./braid build)");
    }
    return p;
  }
}
