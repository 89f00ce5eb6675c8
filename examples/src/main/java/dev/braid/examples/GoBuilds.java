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
    return build(out, "examples/" + program, release, build, work -> {
      copyGoFiles(source, work.resolve(program));
      Files.writeString(work.resolve("go.mod"), "module braid.dev/examples\n\ngo " + release.goDirective() + "\n");
      return List.of();
    }, "./" + program);
  }

  /**
   * {@code program} of the gRPC examples (examples/grpc: grpcshop, grpcload) built with {@code
   * release} against google.golang.org/grpc {@code grpcVersion}, which the Go module proxy serves.
   */
  public static Path grpcBinary(String program, GoRelease release, GoBuild build, String grpcVersion) {
    return moduleBinary("grpc", program, release, build, grpcVersion, "grpc " + grpcVersion, List.of("google.golang.org/grpc " + grpcVersion));
  }

  /** The grpc release the gRPC examples are built against with {@code release} (examples/grpc-versions.txt). */
  public static String grpcVersionFor(GoRelease release) {
    return versionsFor("grpc-versions.txt", release).getFirst();
  }

  /** The OpenTelemetry Go SDK release and its contrib release (otelhttp, otelgrpc), which examples/otel is built against. */
  public record OtelVersions(String sdk, String contrib) {
    @Override
    public String toString() {
      return "sdk " + sdk;
    }
  }

  /**
   * {@code program} of the OpenTelemetry SDK example (examples/otel: otelshop) built with {@code
   * release} against the SDK (and the API of its version), otelhttp and otelgrpc of {@code
   * versions}, and the grpc release of the gRPC examples.
   */
  public static Path otelBinary(String program, GoRelease release, GoBuild build, OtelVersions versions) {
    return otelBinary(program, release, build, versions, grpcVersionFor(release));
  }

  /**
   * As {@link #otelBinary(String, GoRelease, GoBuild, OtelVersions)}, with at least {@code grpc}
   * (newer grpc releases require newer OpenTelemetry APIs: an old SDK needs an old grpc).
   */
  public static Path otelBinary(String program, GoRelease release, GoBuild build, OtelVersions versions, String grpc) {
    List<String> requires = new ArrayList<>();
    for (String module : List.of("go.opentelemetry.io/otel", "go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/trace")) {
      requires.add(module + " " + versions.sdk());
    }
    for (String module : List.of("net/http/otelhttp", "google.golang.org/grpc/otelgrpc")) {
      requires.add("go.opentelemetry.io/contrib/instrumentation/" + module + " " + versions.contrib());
    }
    requires.add("google.golang.org/grpc " + grpc);
    String version = grpc.equals(grpcVersionFor(release)) ? versions.sdk() : versions.sdk() + "-grpc" + grpc;
    return moduleBinary("otel", program, release, build, version, "the OpenTelemetry SDK " + versions.sdk(), requires);
  }

  /** The SDK and contrib releases examples/otel is built against with {@code release} (examples/otel-versions.txt). */
  public static OtelVersions otelVersionsFor(GoRelease release) {
    List<String> v = versionsFor("otel-versions.txt", release);
    return new OtelVersions(v.get(0), v.get(1));
  }

  /**
   * {@code program} of examples/{@code module}, a Go module of its own, built with {@code release}
   * against the modules of {@code requires} ("path version"; go mod tidy resolves the rest).
   */
  private static Path moduleBinary(String module, String program, GoRelease release, GoBuild build, String version, String against, List<String> requires) {
    Path source = sourceRoot().resolve(module);
    Path out = cache().resolve("examples-" + module).resolve(hash(source, Integer.MAX_VALUE)).resolve(release.version()).resolve(version)
        .resolve(build.name()).resolve(program);
    if (Files.isExecutable(out)) {
      return out;
    }
    System.err.println("braid: building examples/" + module + "/" + program + " with " + release + " and " + against + " (" + build.name() + ")");
    return build(out, "examples/" + module + "/" + program, release, build, work -> {
      try (Stream<Path> packages = Files.list(source)) {
        for (Path p : packages.filter(Files::isDirectory).toList()) {
          copyGoFiles(p, work.resolve(p.getFileName().toString()));
        }
      }
      StringBuilder mod = new StringBuilder("module braid.dev/examples/" + module + "\n\ngo " + release.goDirective() + "\n");
      requires.forEach(r -> mod.append("\nrequire ").append(r));
      Files.writeString(work.resolve("go.mod"), mod.append('\n').toString());
      return List.of(List.of("go", "mod", "tidy"));
    }, "./" + program);
  }

  /** The versions a file of examples/ names for {@code release}: its line "goX.Y V1 V2 ...". */
  private static List<String> versionsFor(String file, GoRelease release) {
    try {
      return Files.readAllLines(sourceRoot().resolve(file)).stream()
          .map(String::strip)
          .filter(l -> l.startsWith(release.release() + " "))
          .map(l -> List.of(l.substring(l.indexOf(' ') + 1).strip().split("\\s+")))
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("examples/" + file + " names nothing for " + release.release()));
    } catch (IOException e) {
      throw new UncheckedIOException("reading examples/" + file, e);
    }
  }


  /** Fills a work directory with a module's sources and go.mod; returns the commands to run before go build. */
  private interface Module {
    List<List<String>> writeTo(Path work) throws IOException;
  }

  /** Builds package {@code pkg} of the module {@code module} writes into a scratch directory, and publishes it at {@code out}. */
  private static Path build(Path out, String what, GoRelease release, GoBuild build, Module module, String pkg) {
    try {
      Path work = Files.createTempDirectory("braid-gobuild");
      List<List<String>> commands = new ArrayList<>(module.writeTo(work));
      Files.createDirectories(out.getParent());
      Path partial = out.resolveSibling(out.getFileName() + ".partial");
      List<String> cmd = new ArrayList<>(List.of("go", "build"));
      cmd.addAll(build.buildFlags());
      cmd.addAll(List.of("-o", partial.toString(), pkg));
      commands.add(cmd);
      for (List<String> c : commands) {
        ProcessBuilder pb = new ProcessBuilder(c).directory(work.toFile()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("GOTOOLCHAIN", release.version());
        env.put("GOMODCACHE", cache().resolve("gomod").toString());
        env.put("GOFLAGS", "-modcacherw");
        env.put("CGO_ENABLED", build.cgo() ? "1" : "0");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
          throw new IllegalStateException(String.join(" ", c) + " of " + what + " with " + release + " (" + build.name() + ") failed:\n" + output);
        }
      }
      Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      deleteTree(work);
      LOG.log(System.Logger.Level.DEBUG, () -> "built " + out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("building " + what + " with " + release, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while building " + what, e);
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
    return hash(source, 1);
  }

  private static String hash(Path source, int depth) {
    return GoTools.hash(source, depth, f -> f.toString().endsWith(".go"));
  }

  /** Removes {@code dir} and all in it. */
  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
