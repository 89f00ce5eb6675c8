package dev.braid.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Builds the Go programs of examples/ with any Go release, the way users build theirs. Toolchains
 * come from the Go module proxy through GOTOOLCHAIN; toolchains and binaries are cached under
 * {@code ~/.cache/braid} (or {@code $BRAID_CACHE}), keyed by the programs' source, so a build
 * happens once per machine. Thread-safe: concurrent requests for one binary build it twice at
 * worst, and the rename that publishes it is atomic.
 */
public final class GoBuilds {
  private static final System.Logger LOG = System.getLogger(GoBuilds.class.getName());

  private GoBuilds() {}

  /** The releases braid covers, from examples/go-releases.txt. */
  public static List<GoRelease> covered() {
    try {
      return Files.readAllLines(sourceRoot().resolve("go-releases.txt")).stream()
          .map(String::strip)
          .filter(l -> !l.isEmpty() && !l.startsWith("#"))
          .map(GoRelease::new)
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("reading examples/go-releases.txt", e);
    }
  }

  /** {@code program} (a directory of examples/, such as {@code shop}) built with {@code release}. */
  public static Path binary(String program, GoRelease release, GoBuild build) {
    Path source = sourceRoot().resolve(program);
    if (!Files.isDirectory(source)) {
      throw new IllegalArgumentException("examples/" + program + " does not exist");
    }
    Path out = cache().resolve("examples").resolve(hash(source)).resolve(release.version()).resolve(build.name()).resolve(program);
    if (Files.isExecutable(out)) {
      return out;
    }
    System.err.println("braid: building examples/" + program + " with " + release + " (" + build.name() + "); the first build of a release takes a minute");
    try {
      Path work = Files.createTempDirectory("braid-gobuild");
      copyGoFiles(source, work.resolve(program));
      Files.writeString(work.resolve("go.mod"), "module braid.dev/examples\n\ngo " + release.goDirective() + "\n");
      Files.createDirectories(out.getParent());
      Path partial = out.resolveSibling(program + ".partial");
      List<String> cmd = new ArrayList<>(List.of("go", "build"));
      cmd.addAll(build.buildFlags());
      cmd.addAll(List.of("-o", partial.toString(), "./" + program));
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true);
      Map<String, String> env = pb.environment();
      env.put("GOTOOLCHAIN", release.version());
      env.put("GOMODCACHE", cache().resolve("gomod").toString());
      env.put("GOFLAGS", "-modcacherw");
      env.put("CGO_ENABLED", build.cgo() ? "1" : "0");
      Process p = pb.start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IllegalStateException("go build of examples/" + program + " with " + release + " (" + build.name() + ") failed:\n" + output);
      }
      Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      deleteTree(work);
      LOG.log(System.Logger.Level.DEBUG, () -> "built " + out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("building examples/" + program + " with " + release, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while building " + program, e);
    }
  }

  /** {@code $BRAID_CACHE}, or {@code ~/.cache/braid}. */
  public static Path cache() {
    String env = System.getenv("BRAID_CACHE");
    return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "braid");
  }

  /** The examples/ directory of the checkout (the parent of target/bin). */
  static Path sourceRoot() {
    return Examples.bin().toAbsolutePath().getParent().getParent();
  }

  private static void copyGoFiles(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".go")).toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }

  /** A digest of the program's Go sources: a changed example is built again. */
  private static String hash(Path source) {
    return GoTools.hash(source, 1, f -> f.toString().endsWith(".go"));
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
