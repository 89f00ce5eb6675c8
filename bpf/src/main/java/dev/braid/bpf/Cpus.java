package dev.braid.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The kernel's CPU lists ({@code /sys/devices/system/cpu/{online,possible}}). */
public final class Cpus {
  private Cpus() {}

  /** CPUs that run now: where perf events are opened. */
  public static List<Integer> online() {
    return read("online");
  }

  /** Number of possible CPUs: the stride of per-CPU map values. */
  public static int possible() {
    List<Integer> cpus = read("possible");
    return cpus.getLast() + 1;
  }

  private static List<Integer> read(String which) {
    try {
      return parse(Files.readString(Path.of("/sys/devices/system/cpu", which)));
    } catch (IOException e) {
      throw new UncheckedIOException("reading the " + which + " CPU list", e);
    }
  }

  /** Parses a kernel CPU list such as {@code 0-3,8,10-11}. */
  static List<Integer> parse(String list) {
    List<Integer> cpus = new ArrayList<>();
    for (String part : list.strip().split(",")) {
      if (part.isEmpty()) {
        continue;
      }
      int dash = part.indexOf('-');
      int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
      int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
      for (int cpu = from; cpu <= to; cpu++) {
        cpus.add(cpu);
      }
    }
    return cpus;
  }
}
