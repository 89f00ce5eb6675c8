package dev.braid.elf.go;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Go release version such as {@code go1.26.8}. Pre-releases ({@code go1.22rc1}, {@code go1.21beta2}) count as
 * patch 0 of their release. Ordered by (major, minor, patch).
 */
public record GoVersion(int major, int minor, int patch) implements Comparable<GoVersion> {
  private static final Pattern VERSION = Pattern.compile("go(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?(?:(?:rc|beta)\\d+)?");

  /**
   * Parses the version Go records in binaries ({@code runtime.Version()}): "go1.26.8", "go1.21.0", "go1.22rc1",
   * "go1.21" (patch 0); anything after a space (e.g. " X:nocoverageredesign") is ignored. Development builds
   * ("devel ...") and anything else give empty.
   */
  public static Optional<GoVersion> parse(String version) {
    if (version == null) {
      return Optional.empty();
    }
    String head = version.strip();
    int space = head.indexOf(' ');
    if (space >= 0) {
      head = head.substring(0, space);
    }
    Matcher m = VERSION.matcher(head);
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new GoVersion(Integer.parseInt(m.group(1)), number(m.group(2)), number(m.group(3))));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static int number(String digits) {
    return digits == null ? 0 : Integer.parseInt(digits);
  }

  /** Whether this version is at least {@code major.minor}. */
  public boolean atLeast(int major, int minor) {
    return this.major > major || (this.major == major && this.minor >= minor);
  }

  /** The release this version belongs to, e.g. "go1.26". */
  public String release() {
    return "go" + major + "." + minor;
  }

  @Override
  public int compareTo(GoVersion o) {
    int c = Integer.compare(major, o.major);
    if (c == 0) {
      c = Integer.compare(minor, o.minor);
    }
    return c != 0 ? c : Integer.compare(patch, o.patch);
  }

  /** The version as Go writes it, e.g. "go1.26.8". */
  @Override
  public String toString() {
    return "go" + major + "." + minor + "." + patch;
  }
}
