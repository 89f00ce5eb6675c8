package dev.braid.bpf;

import java.nio.file.Path;
import java.util.List;

/**
 * A map is pinned where traces_ctx_v1 belongs, but with another layout. braid refuses it and
 * leaves it untouched: the writer or reader that made it may still use it.
 */
public final class IncompatiblePinException extends RuntimeException {
  private final Path path;
  private final List<String> differences;

  public IncompatiblePinException(Path path, List<String> differences) {
    super(
        "the map pinned at "
            + path
            + " is not traces_ctx_v1 as the contract defines it: "
            + String.join(", ", differences)
            + ". It was left untouched. Stop whoever pinned it, or remove the pin if it is stale (rm "
            + path
            + "), or use another --pin-path.");
    this.path = path;
    this.differences = List.copyOf(differences);
  }

  public Path path() {
    return path;
  }

  public List<String> differences() {
    return differences;
  }
}
