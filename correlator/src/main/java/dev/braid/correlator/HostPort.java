package dev.braid.correlator;

import java.util.Optional;
import java.util.OptionalInt;

/** A {@code host[:port]} as HTTP's Host header or a URL's host carries it ({@code [::1]:80} too). */
record HostPort(String host, OptionalInt port) {
  static Optional<HostPort> parse(String text) {
    if (text == null || text.isBlank()) {
      return Optional.empty();
    }
    int colon = text.lastIndexOf(':');
    int bracket = text.lastIndexOf(']');
    if (colon < 0 || colon < bracket) {
      return Optional.of(new HostPort(strip(text), OptionalInt.empty()));
    }
    try {
      return Optional.of(new HostPort(strip(text.substring(0, colon)), OptionalInt.of(Integer.parseInt(text.substring(colon + 1)))));
    } catch (NumberFormatException e) {
      return Optional.of(new HostPort(strip(text), OptionalInt.empty()));
    }
  }

  private static String strip(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }
}
