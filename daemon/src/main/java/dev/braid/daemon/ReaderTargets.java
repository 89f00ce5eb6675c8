package dev.braid.daemon;

import dev.braid.correlator.ProcessInfo;
import dev.braid.tracer.FileIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reader mode's processes: any process may be sampled (its spans come from another writer), so
 * each pid a sample names is looked at once: kept when it matches {@code --exe} (the same file)
 * and not {@code --exclude}, or named by {@code --pid}. Not thread-safe: the pipeline calls it.
 */
final class ReaderTargets {
  private final DaemonConfig config;
  private final ProcessResources resources;
  private final Optional<FileIdentity> executable;
  private final Map<Integer, Optional<ProcessInfo>> seen = new HashMap<>();

  ReaderTargets(DaemonConfig config, ProcessResources resources) {
    this.config = config;
    this.resources = resources;
    this.executable = config.executable().flatMap(FileIdentity::of);
  }

  /** The process, when its samples are kept. */
  Optional<ProcessInfo> process(int pid) {
    return seen.computeIfAbsent(pid, this::lookAt);
  }

  private Optional<ProcessInfo> lookAt(int pid) {
    if (!config.pids().isEmpty() && !config.pids().contains(pid)) {
      return Optional.empty();
    }
    if (executable.isPresent() && !executable.equals(FileIdentity.ofProcess(pid))) {
      return Optional.empty();
    }
    String path = executablePath(pid);
    String comm = read(Path.of("/proc", Integer.toString(pid), "comm")).orElse("?");
    if (config.exclude().isPresent() && (config.exclude().get().matcher(path).find() || config.exclude().get().matcher(comm).find())) {
      return Optional.empty();
    }
    String name = path.substring(path.lastIndexOf('/') + 1);
    return Optional.of(resources.describe(pid, path, name.isEmpty() ? comm : name));
  }

  /** The pids looked at whose process has exited since; they are forgotten. */
  Set<Integer> exited() {
    Set<Integer> gone = seen.keySet().stream().filter(pid -> !Files.exists(Path.of("/proc", Integer.toString(pid)))).collect(Collectors.toSet());
    seen.keySet().removeAll(gone);
    return gone;
  }

  private static String executablePath(int pid) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "exe")).toString();
    } catch (IOException | UnsupportedOperationException e) {
      return "";
    }
  }

  private static Optional<String> read(Path p) {
    try {
      return Optional.of(Files.readString(p).strip());
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
