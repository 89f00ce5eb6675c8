package dev.braid.tracer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A file as the kernel knows it: device and inode. Uprobes attach to an inode, so this, not the
 * path, tells which processes run a binary (hard links, bind mounts and /proc/PID/exe agree).
 */
public record FileIdentity(long device, long inode) {

  /** The identity of the file at {@code path}, following symbolic links. */
  public static Optional<FileIdentity> of(Path path) {
    try {
      // One stat for both (the daemon asks this of every process at every scan).
      Map<String, Object> stat = Files.readAttributes(path, "unix:dev,ino");
      return Optional.of(new FileIdentity(((Number) stat.get("dev")).longValue(), ((Number) stat.get("ino")).longValue()));
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.empty();
    }
  }

  /** The executable of a running process, or empty when it is gone or not ours to see. */
  public static Optional<FileIdentity> ofProcess(int pid) {
    return of(Path.of("/proc", Integer.toString(pid), "exe"));
  }
}
