package dev.braid.profiler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The executable mappings of a process, from {@code /proc/PID/maps}. Immutable: a snapshot.
 *
 * @param mappings sorted by start address
 */
public record ProcessMaps(int pid, List<Region> mappings) {
  private static final Pattern FIELDS = Pattern.compile("\\s+"); // compiled once, not per line

  /**
   * One executable mapping.
   *
   * @param device the file's device as maps prints it ({@code fd:01}); with the inode, what
   *     identifies the file on the host
   */
  public record Region(long start, long end, long offset, String device, long inode, String path) {
    boolean contains(long address) {
      return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }

    /** A file braid can open; not {@code [vdso]}, anonymous memory or a deleted file. */
    public boolean isFile() {
      return inode != 0 && path.startsWith("/") && !path.endsWith(" (deleted)");
    }
  }

  /** The process's executable mappings now; empty when the process is gone. */
  public static Optional<ProcessMaps> read(int pid) {
    try {
      return Optional.of(parse(pid, Files.readString(Path.of("/proc", Integer.toString(pid), "maps"))));
    } catch (IOException e) {
      return Optional.empty(); // the process is gone
    }
  }

  static ProcessMaps parse(int pid, String text) {
    List<Region> regions = new ArrayList<>();
    for (String line : text.split("\n")) {
      // start-end perms offset dev inode [path]
      String[] f = FIELDS.split(line.trim(), 6);
      if (f.length < 5 || f[1].indexOf('x') < 0) {
        continue;
      }
      int dash = f[0].indexOf('-');
      regions.add(
          new Region(
              Long.parseUnsignedLong(f[0].substring(0, dash), 16),
              Long.parseUnsignedLong(f[0].substring(dash + 1), 16),
              Long.parseUnsignedLong(f[2], 16),
              f[3],
              Long.parseLong(f[4]),
              f.length > 5 ? f[5] : ""));
    }
    return new ProcessMaps(pid, List.copyOf(regions));
  }

  Optional<Region> regionOf(long address) {
    for (Region r : mappings) {
      if (r.contains(address)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}
