package dev.braid.bpf.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs real peers (go, bpftool) from tests and returns what they print. */
public final class Commands {
  private Commands() {}

  /** Runs {@code command} in {@code dir}; fails the test unless it exits 0 within 5 minutes. */
  public static String run(Path dir, List<String> command) {
    try {
      Process p = new ProcessBuilder(command).directory(dir == null ? null : dir.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError(command + " did not finish");
      }
      if (p.exitValue() != 0) {
        throw new AssertionError(command + " exited " + p.exitValue() + ":\n" + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("running " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  public static String run(List<String> command) {
    return run(null, command);
  }
}
