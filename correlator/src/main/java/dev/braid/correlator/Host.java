package dev.braid.correlator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about the host braid runs on. */
public final class Host {
  private Host() {}

  /** The host's name, as {@code host.name} reports it. */
  public static String name() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
