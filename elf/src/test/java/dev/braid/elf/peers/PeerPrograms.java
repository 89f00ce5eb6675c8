package dev.braid.elf.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The small Go programs under {@code src/test/go} that act as peers, built once per test JVM into
 * {@code target/peers} (the Go build cache makes rebuilds cheap across runs; {@code mvn clean} removes them).
 */
public final class PeerPrograms {
  private static final Path SOURCES = Path.of("src", "test", "go");
  private static final Map<String, Path> BUILT = new ConcurrentHashMap<>();
  private static final Path DIR = createDir();

  private PeerPrograms() {}

  private static Path createDir() {
    try {
      return Files.createDirectories(Path.of("target", "peers").toAbsolutePath());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The source directory of peer program {@code name}. */
  public static Path source(String name) {
    return SOURCES.resolve(name).toAbsolutePath();
  }

  /** A fresh, empty directory for a test's own builds. */
  public static Path scratch(String name) {
    try {
      return Files.createDirectories(DIR.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code name} built by {@code go} with {@code flags}, once. */
  public static Path build(GoToolchain go, String name, List<String> flags) {
    String key = go.version() + "-" + name + "-" + String.join("_", flags).replaceAll("[^A-Za-z0-9_=.-]", "");
    return BUILT.computeIfAbsent(key, k -> go.build(source(name), DIR.resolve(k), flags, Map.of()));
  }

  /** The debug/dwarf peer, built by the primary toolchain. */
  public static Path dwarfpeer() {
    return build(GoToolchain.primary(), "dwarfpeer", List.of());
  }
}
