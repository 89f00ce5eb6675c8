package dev.braid.daemon;

import dev.braid.bpf.BpfProgram;
import dev.braid.bpf.SystemCheck;
import dev.braid.tracer.FileIdentity;
import dev.braid.tracer.GoProgram;
import dev.braid.tracer.Tracer;
import dev.braid.tracer.UnsupportedBinaryException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the Go processes to trace, by walking {@code /proc} (every second, from the pipeline):
 * the processes of the configured executable, or, without one, every Go process on the host,
 * narrowed by {@code --pid} and {@code --exclude}. Each new binary is inspected once and probed;
 * a Go binary braid cannot trace is reported once, with the reason, and left alone.
 *
 * <p>Not thread-safe: the pipeline thread calls it.
 */
final class ProcessWatcher {
  private static final System.Logger LOG = System.getLogger(ProcessWatcher.class.getName());

  /** What the watcher reports. */
  interface Listener {
    void started(int pid, GoProgram program);

    void exited(int pid);
  }

  private final DaemonConfig config;
  private final Tracer tracer;
  private final Listener listener;
  private final Map<FileIdentity, GoProgram> programs = new HashMap<>();
  private final Set<FileIdentity> leftAlone = new HashSet<>();
  private final Set<Integer> skippedPids = new HashSet<>();
  private final Map<Integer, GoProgram> running = new HashMap<>();
  private final long self = ProcessHandle.current().pid();
  private boolean hiddenReported;

  ProcessWatcher(DaemonConfig config, Tracer tracer, Listener listener) {
    this.config = config;
    this.tracer = tracer;
    this.listener = listener;
  }

  /** Probes the configured executable up front: its problems are the user's to fix, now. */
  GoProgram instrumentExecutable(Path executable) {
    GoProgram program = GoProgram.inspect(executable);
    warnings(program);
    attach(program);
    return program;
  }

  /** One walk of /proc: new processes are probed and reported, vanished ones reported. */
  void scan() {
    config.executable().ifPresent(this::followRedeploy);
    Set<Integer> seen = new HashSet<>();
    try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
      for (Path dir : proc) {
        int pid = Integer.parseInt(dir.getFileName().toString());
        if (pid == self || skippedPids.contains(pid) || (!config.pids().isEmpty() && !config.pids().contains(pid))) {
          continue;
        }
        if (running.containsKey(pid)) {
          seen.add(pid);
          continue;
        }
        Optional<GoProgram> program = programOf(pid);
        if (program.isPresent()) {
          if (config.probesPerProcess() && (tooYoung(pid) || !instrumentPid(program.get(), pid))) {
            continue; // a young one is looked at again on the next walk
          }
          running.put(pid, program.get());
          seen.add(pid);
          listener.started(pid, program.get());
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("reading /proc", e);
    }
    for (int pid : Set.copyOf(running.keySet())) {
      if (!seen.contains(pid)) {
        running.remove(pid);
        listener.exited(pid);
      }
    }
  }

  /** Whether the process has run for less than --min-process-age. */
  private boolean tooYoung(int pid) {
    if (config.minProcessAge().isZero()) {
      return false;
    }
    Optional<java.time.Instant> started = ProcessHandle.of(pid).flatMap(p -> p.info().startInstant());
    return started.isEmpty() || started.get().plus(config.minProcessAge()).isAfter(java.time.Instant.now());
  }

  /** Probes one process (--pid, --min-process-age); one that exits meanwhile or cannot be probed is skipped, not retried. */
  private boolean instrumentPid(GoProgram program, int pid) {
    try {
      tracer.instrument(program, pid);
      return true;
    } catch (RuntimeException e) {
      if (Files.exists(Path.of("/proc", Integer.toString(pid)))) {
        LOG.log(Level.WARNING, "pid " + pid + " could not be probed; it is left alone: " + e.getMessage() + refusalFix(e));
        skippedPids.add(pid);
      }
      return false;
    }
  }

  /**
   * A deploy that replaces the executable (a rename over it) gives it a new inode; probes stay on
   * the old one, so the new file is probed too, and its processes found by its identity.
   */
  private void followRedeploy(Path executable) {
    Optional<FileIdentity> now = FileIdentity.of(executable);
    if (now.isPresent() && !programs.containsKey(now.get()) && !leftAlone.contains(now.get())) {
      LOG.log(Level.INFO, executable + " was replaced; probing the new file");
      try {
        instrumentExecutable(executable);
      } catch (UnsupportedBinaryException e) {
        leftAlone.add(now.get());
        LOG.log(Level.WARNING, "the new " + executable + " cannot be traced: " + e.getMessage());
      }
    }
  }

  /**
   * A process that a probe reported before the walk found it: looked at now, and reported as
   * started when it is one to trace.
   */
  Optional<GoProgram> discover(int pid) {
    GoProgram known = running.get(pid);
    if (known != null || pid == self || (!config.pids().isEmpty() && !config.pids().contains(pid))) {
      return Optional.ofNullable(known);
    }
    Optional<GoProgram> program = programOf(pid);
    program.ifPresent(
        p -> {
          running.put(pid, p);
          listener.started(pid, p);
        });
    return program;
  }

  private Optional<GoProgram> programOf(int pid) {
    Optional<FileIdentity> identity = FileIdentity.ofProcess(pid);
    if (identity.isEmpty()) {
      warnIfHidden(pid);
      return Optional.empty();
    }
    if (leftAlone.contains(identity.get())) {
      return Optional.empty();
    }
    GoProgram known = programs.get(identity.get());
    if (known != null) {
      return Optional.of(known);
    }
    if (config.executable().isPresent()) {
      return Optional.empty(); // only the executable's processes, whose files were probed already
    }
    Path exe = executablePath(pid);
    String comm = comm(pid);
    if (config.exclude().isPresent() && (config.exclude().get().matcher(exe.toString()).find() || config.exclude().get().matcher(comm).find())) {
      leftAlone.add(identity.get());
      return Optional.empty();
    }
    try {
      GoProgram program = GoProgram.inspect(exe);
      warnings(program);
      attach(program);
      return Optional.of(program);
    } catch (UnsupportedBinaryException e) {
      if (!Files.exists(Path.of("/proc", Integer.toString(pid)))) {
        return Optional.empty(); // it exited while its file was read: the file may be fine
      }
      leftAlone.add(identity.get());
      boolean goProgram = !e.getMessage().contains("not a Go program") && !e.getMessage().contains("not an ELF");
      LOG.log(goProgram ? Level.WARNING : Level.DEBUG, () -> "pid " + pid + " (" + comm + ") is left alone: " + e.getMessage());
      return Optional.empty();
    } catch (RuntimeException e) {
      leftAlone.add(identity.get());
      LOG.log(Level.WARNING, "pid " + pid + " (" + comm + ") could not be probed; it is left alone" + refusalFix(e), e);
      return Optional.empty();
    }
  }

  /**
   * A process whose executable braid may not look at (no CAP_SYS_PTRACE, as in a container given
   * too few capabilities) would otherwise be skipped without a word: said once, with the fix.
   * With the capability, what still hides (another user namespace, a security module) is noted.
   */
  private void warnIfHidden(int pid) {
    if (hiddenReported) {
      return;
    }
    try {
      Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "exe"));
    } catch (AccessDeniedException e) {
      hiddenReported = true;
      String hidden = "pid " + pid + " (" + comm(pid) + ") hides its executable (/proc/" + pid + "/exe: permission denied); it is not traced";
      if (SystemCheck.otherProcesses().ok()) {
        LOG.log(Level.INFO, hidden + ", though braid has CAP_SYS_PTRACE (another user namespace, or a security module)");
      } else {
        LOG.log(Level.WARNING, hidden + ", nor is any process braid may not look into: give it CAP_SYS_PTRACE (podman/docker --cap-add SYS_PTRACE, or --privileged)");
      }
    } catch (IOException | UnsupportedOperationException e) {
      // gone, or a kernel thread (no executable)
    }
  }

  /** The kernel's EACCES on a uprobe: CAP_BPF with CAP_PERFMON, without CAP_SYS_ADMIN, was not enough (measured on 6.18). */
  private static String refusalFix(RuntimeException e) {
    return String.valueOf(e.getMessage()).contains("EACCES") ? " (the kernel refused a uprobe: give braid CAP_SYS_ADMIN, as braid doctor says)" : "";
  }

  private void attach(GoProgram program) {
    if (!config.probesPerProcess()) {
      tracer.instrument(program, BpfProgram.ALL_PROCESSES);
    }
    programs.put(program.identity(), program);
  }

  private static void warnings(GoProgram program) {
    for (String w : program.warnings()) {
      LOG.log(Level.WARNING, program.path() + " (" + program.goVersion() + "): " + w);
    }
  }

  /** The executable as the process sees it (through its root, for containers). */
  private static Path executablePath(int pid) {
    Path link = Path.of("/proc", Integer.toString(pid), "exe");
    try {
      Path target = Files.readSymbolicLink(link);
      Path inRoot = Path.of("/proc", Integer.toString(pid), "root").resolve(target.toString().substring(1));
      return Files.exists(inRoot) ? inRoot : link;
    } catch (IOException | UnsupportedOperationException e) {
      return link;
    }
  }

  private static String comm(int pid) {
    try {
      return Files.readString(Path.of("/proc", Integer.toString(pid), "comm")).strip();
    } catch (IOException e) {
      return "?";
    }
  }
}
