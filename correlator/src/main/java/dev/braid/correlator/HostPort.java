package dev.braid.correlator;

import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.OptionalInt;

/** A {@code host[:port]} as HTTP's Host header or a URL's host carries it ({@code [::1]:80} too). */
public record HostPort(String host, OptionalInt port) {
  /**
   * The address a server listens on, from {@code HOST:PORT} or {@code :PORT} (all interfaces).
   *
   * @throws IllegalArgumentException without a port, with what was wrong
   */
  public static InetSocketAddress listenAddress(String text) {
    Optional<HostPort> hp = text.startsWith(":") ? Optional.of(new HostPort("", parsePort(text.substring(1), text))) : parse(text);
    if (hp.isEmpty() || hp.get().port().isEmpty() || hp.get().port().getAsInt() < 0 || hp.get().port().getAsInt() > 65535) {
      throw new IllegalArgumentException("--metrics-addr must be HOST:PORT or :PORT, not '" + text + "'");
    }
    return hp.get().host().isEmpty() ? new InetSocketAddress(hp.get().port().getAsInt()) : new InetSocketAddress(hp.get().host(), hp.get().port().getAsInt());
  }

  private static OptionalInt parsePort(String port, String text) {
    try {
      return OptionalInt.of(Integer.parseInt(port));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--metrics-addr must be HOST:PORT or :PORT, not '" + text + "'");
    }
  }

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
