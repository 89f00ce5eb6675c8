package dev.braid.elf.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the real tools braid's readers are checked against (go tool, readelf, objcopy) and returns their output. */
public final class Peers {
  private static final long TIMEOUT_SECONDS = 300;

  private Peers() {}

  /** The test binaries built by examples/ (system property {@code braid.examples.bin}, set by surefire). */
  public static Path example(String name) {
    String dir = System.getProperty("braid.examples.bin");
    Path bin = dir != null ? Path.of(dir) : Path.of("..", "examples", "target", "bin");
    Path p = bin.resolve(name);
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(p + " is missing: build examples/ first (mvn -pl elf -am install)");
    }
    return p;
  }

  /** Runs {@code command} and returns its standard output; fails with its standard error if it exits non-zero. */
  public static String run(List<String> command) {
    return run(command, null, Map.of(), null);
  }

  /**
   * Runs {@code command} in {@code dir} (null: the current one), feeding it {@code stdin} (may be null), with extra
   * environment variables.
   */
  public static String run(List<String> command, String stdin, Map<String, String> env, Path dir) {
    ProcessBuilder pb = new ProcessBuilder(command);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    pb.environment().putAll(env);
    try {
      Process p = pb.start();
      CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
      try (var in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(command + " timed out");
      }
      if (p.exitValue() != 0) {
        throw new AssertionError(command + " exited " + p.exitValue() + ": " + err.join());
      }
      return out.join();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static String read(java.io.InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
