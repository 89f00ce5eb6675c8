package dev.braid.tracer;

import java.nio.file.Path;

/** braid cannot trace this file: it is missing, not an ELF executable, or not a Go program it knows. */
public final class UnsupportedBinaryException extends RuntimeException {
  private final Path path;
  private final boolean notGo;

  public UnsupportedBinaryException(Path path, String problem) {
    this(path, problem, null, false);
  }

  public UnsupportedBinaryException(Path path, String problem, Throwable cause) {
    this(path, problem, cause, false);
  }

  private UnsupportedBinaryException(Path path, String problem, Throwable cause, boolean notGo) {
    super(path + ": " + problem, cause);
    this.path = path;
    this.notGo = notGo;
  }

  /** The file is no Go program at all (not ELF, or no Go build information): braid has nothing to say about it. */
  static UnsupportedBinaryException notGo(Path path, String problem, Throwable cause) {
    return new UnsupportedBinaryException(path, problem, cause, true);
  }

  /** Whether the file is no Go program at all, rather than a Go program braid cannot read or trace. */
  public boolean notGo() {
    return notGo;
  }

  public Path path() {
    return path;
  }
}
