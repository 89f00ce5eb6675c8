package dev.braid.tracer;

import java.nio.file.Path;

/** braid cannot trace this file: it is missing, not an ELF executable, or not a Go program it knows. */
public final class UnsupportedBinaryException extends RuntimeException {
  private final Path path;

  public UnsupportedBinaryException(Path path, String problem) {
    super(path + ": " + problem);
    this.path = path;
  }

  public UnsupportedBinaryException(Path path, String problem, Throwable cause) {
    super(path + ": " + problem, cause);
    this.path = path;
  }

  public Path path() {
    return path;
  }
}
