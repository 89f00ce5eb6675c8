package dev.braid.daemon.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the example Go programs that {@code demo} and {@code conformance} run are: {@code
 * --examples DIR}, else {@code -Dbraid.examples.bin}, which both launchers set (the checkout's
 * {@code ./braid} to examples/target/bin, the release's {@code bin/braid} to its examples/).
 */
record ExamplePrograms(Path dir) {
  static ExamplePrograms of(Path option) {
    String property = System.getProperty("braid.examples.bin");
    if (option == null && property == null) {
      throw new UsageException("where are the example programs? pass --examples DIR (a checkout's examples/target/bin, a release's examples/)");
    }
    // absolute: a writer matches {exe} against the full path of what runs (OBI's target glob does)
    return new ExamplePrograms((option != null ? option : Path.of(property)).toAbsolutePath().normalize());
  }

  /** One program, such as {@code shop}; a usage error with the fix when it is not there. */
  Path binary(String name) {
    Path p = dir.resolve(name);
    if (!Files.isExecutable(p)) {
      throw new UsageException(p + " is missing: build the examples first (./braid build), or pass --examples DIR");
    }
    return p;
  }
}
