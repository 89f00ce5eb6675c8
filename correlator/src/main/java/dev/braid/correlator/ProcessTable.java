package dev.braid.correlator;

import dev.braid.tracer.FileIdentity;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** Finds the processes that run a given executable, by walking {@code /proc}. Stateless. */
final class ProcessTable {
  private ProcessTable() {}

  /** The pids whose executable is the file {@code identity}. */
  static Set<Integer> running(FileIdentity identity) {
    Set<Integer> pids = new HashSet<>();
    try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"))) {
      for (Path p : proc) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        int pid = Integer.parseInt(name);
        if (FileIdentity.ofProcess(pid).filter(identity::equals).isPresent()) {
          pids.add(pid);
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("reading /proc", e);
    }
    return pids;
  }

  static boolean alive(int pid) {
    return Files.exists(Path.of("/proc", Integer.toString(pid)));
  }

  /** The host's name, as {@code host.name} reports it. */
  static String hostName() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
