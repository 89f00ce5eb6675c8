package dev.braid.examples;

import java.util.ArrayList;
import java.util.List;

/**
 * How a Go program is built: position-independent or not, with cgo or pure Go, with DWARF or
 * stripped ({@code -ldflags=-s -w}).
 */
public record GoBuild(boolean pie, boolean cgo, boolean stripped) {
  /** What {@code go build} gives by default on Linux with a C compiler. */
  public static final GoBuild DEFAULT = new GoBuild(false, true, false);
  /** The opposite on every axis: what a slim container image often holds. */
  public static final GoBuild STRIPPED_PIE_PURE = new GoBuild(true, false, true);

  /** A short name for paths and test names: {@code exe-cgo-dwarf}. */
  public String name() {
    return (pie ? "pie" : "exe") + "-" + (cgo ? "cgo" : "purego") + "-" + (stripped ? "stripped" : "dwarf");
  }

  List<String> buildFlags() {
    List<String> flags = new ArrayList<>(List.of("-buildmode=" + (pie ? "pie" : "exe")));
    if (stripped) {
      flags.add("-ldflags=-s -w");
    }
    return flags;
  }

  @Override
  public String toString() {
    return name();
  }
}
