package dev.braid.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Go programs the tests use as independent peers (examples/promcheck: Prometheus' own text
 * parser), each a module of its own with its dependencies from the Go module proxy. Built once
 * per machine with the local Go and cached under {@code ~/.cache/braid/tools}.
 */
public final class GoTools {
  private GoTools() {}

  /** The binary of examples/{@code name}, built first when this machine has none of its source. */
  public static synchronized Path binary(String name) {
    Path source = GoBuilds.sourceRoot().resolve(name);
    Path out = GoBuilds.cache().resolve("tools").resolve(hash(source)).resolve(name);
    if (Files.isExecutable(out)) {
      return out;
    }
    System.err.println("braid: building examples/" + name);
    try {
      Files.createDirectories(out.getParent());
      Path partial = out.resolveSibling(name + ".partial");
      run(source, List.of("go", "build", "-o", partial.toString(), "."), out.getParent());
      Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("building examples/" + name, e);
    }
  }

  /** Runs a go command in {@code dir} with the local toolchain and braid's module cache. */
  static void run(Path dir, List<String> command, Path gobin) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("GOBIN", gobin.toString());
    pb.environment().put("GOTOOLCHAIN", "local");
    pb.environment().put("GOMODCACHE", GoBuilds.cache().resolve("gomod").toString());
    pb.environment().put("GOFLAGS", "-modcacherw");
    try {
      Process p = pb.start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("running " + command.getFirst(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A digest of every file under {@code source} but {@code config.yaml}: a changed one is built again. */
  static String hash(Path source) {
    return hash(source, Integer.MAX_VALUE, f -> !f.getFileName().toString().equals("config.yaml"));
  }

  /** A digest of the names and contents of the files under {@code source} that {@code include} takes. */
  static String hash(Path source, int depth, Predicate<Path> include) {
    try (Stream<Path> files = Files.walk(source, depth)) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Path f : files.filter(Files::isRegularFile).filter(include).sorted().toList()) {
        sha.update(source.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
        sha.update(Files.readAllBytes(f));
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 8);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + source, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
