package dev.braid.examples;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Go toolchain version, such as {@code go1.23.12}, as GOTOOLCHAIN names it.
 *
 * @param version the full version string
 */
public record GoRelease(String version) implements Comparable<GoRelease> {
  private static final Pattern FORMAT = Pattern.compile("go1\\.(\\d+)\\.(\\d+)");

  public GoRelease {
    if (!FORMAT.matcher(version).matches()) {
      throw new IllegalArgumentException("not a Go release: " + version + " (want go1.N.P)");
    }
  }

  public int minor() {
    return part(1);
  }

  public int patch() {
    return part(2);
  }

  /** The release this patch belongs to: {@code go1.23}. */
  public String release() {
    return "go1." + minor();
  }

  /** The go.mod directive that gives programs this release's default behaviour: {@code 1.23}. */
  public String goDirective() {
    return "1." + minor();
  }

  private int part(int group) {
    Matcher m = FORMAT.matcher(version);
    m.matches();
    return Integer.parseInt(m.group(group));
  }

  @Override
  public int compareTo(GoRelease o) {
    return minor() != o.minor() ? Integer.compare(minor(), o.minor()) : Integer.compare(patch(), o.patch());
  }

  @Override
  public String toString() {
    return version;
  }
}
