package dev.braid.elf.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A Go toolchain on this machine: the one examples/ builds with ({@code /usr/local/go}, or {@code go} on the PATH),
 * plus any older Debian-packaged ones ({@code /usr/lib/go-1.N}) that widen the version coverage when installed.
 */
public record GoToolchain(Path go, String version) {
  private static final Map<String, String> ENV = Map.of("GOTOOLCHAIN", "local", "GOWORK", "off", "GOFLAGS",
      "-buildvcs=false");

  /** The primary toolchain; tests need it (examples/ cannot be built without it either). */
  public static GoToolchain primary() {
    Path go = Path.of("/usr/local/go/bin/go");
    if (!Files.isExecutable(go)) {
      go = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
          .map(d -> Path.of(d, "go")).filter(Files::isExecutable).findFirst()
          .orElseThrow(() -> new IllegalStateException("no Go toolchain: install Go (see examples/)"));
    }
    return of(go);
  }

  /** The primary toolchain and every {@code /usr/lib/go-1.N/bin/go} present. */
  public static List<GoToolchain> all() {
    List<GoToolchain> out = new ArrayList<>(List.of(primary()));
    try (Stream<Path> dirs = Files.list(Path.of("/usr/lib"))) {
      dirs.filter(d -> d.getFileName().toString().startsWith("go-1."))
          .map(d -> d.resolve("bin/go")).filter(Files::isExecutable).sorted()
          .forEach(go -> out.add(of(go)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static GoToolchain of(Path go) {
    String[] words = Peers.run(List.of(go.toString(), "version"), null, ENV, null).split(" ");
    return new GoToolchain(go, words[2]);
  }

  /** Runs {@code go <args>} and returns its standard output. */
  public String run(String... args) {
    List<String> command = new ArrayList<>(List.of(go.toString()));
    command.addAll(List.of(args));
    return Peers.run(command, null, ENV, null);
  }

  /** Runs {@code go tool <args>}, feeding it {@code stdin}. */
  public String tool(String stdin, String... args) {
    List<String> command = new ArrayList<>(List.of(go.toString(), "tool"));
    command.addAll(List.of(args));
    return Peers.run(command, stdin, ENV, null);
  }

  /**
   * Builds the main package in {@code sourceDir} into {@code out} with extra {@code go build} flags and environment
   * (e.g. GOEXPERIMENT).
   */
  public Path build(Path sourceDir, Path out, List<String> flags, Map<String, String> env) {
    List<String> command = new ArrayList<>(List.of(go.toString(), "build", "-o", out.toAbsolutePath().toString()));
    command.addAll(flags);
    command.add(".");
    Map<String, String> all = new java.util.HashMap<>(ENV);
    all.putAll(env);
    Peers.run(command, null, all, sourceDir);
    return out;
  }

  @Override
  public String toString() {
    return version;
  }
}
