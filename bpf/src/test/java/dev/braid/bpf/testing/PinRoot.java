package dev.braid.bpf.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/** A fresh directory on bpffs for one test's pins, removed with everything in it on close. */
public final class PinRoot implements AutoCloseable {
  private final Path path;

  private PinRoot(Path path) {
    this.path = path;
  }

  public static PinRoot create() {
    Path base = Path.of("/sys/fs/bpf");
    Kernel.requireBpffs(base);
    Path dir = base.resolve("braid-test-" + UUID.randomUUID().toString().substring(0, 8));
    try {
      Files.createDirectory(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new PinRoot(dir);
  }

  public Path path() {
    return path;
  }

  @Override
  public void close() {
    try (Stream<Path> files = Files.walk(path)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
