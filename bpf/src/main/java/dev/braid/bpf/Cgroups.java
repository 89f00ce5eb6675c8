package dev.braid.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where the cgroup v2 hierarchy is mounted (unified, or beside v1 in a hybrid setup). */
public final class Cgroups {
  private Cgroups() {}

  /** The root of the cgroup v2 hierarchy, such as {@code /sys/fs/cgroup} or {@code /sys/fs/cgroup/unified}. */
  public static Optional<Path> v2Root() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
        String[] f = line.split(" ");
        if (f.length > 2 && f[2].equals("cgroup2")) {
          return Optional.of(Path.of(f[1]));
        }
      }
    } catch (IOException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }
}
