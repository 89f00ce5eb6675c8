package dev.braid.daemon;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds the Go processes to trace, by walking {@code /proc} (every second, from the pipeline):
 * the processes of the configured executable, or, without one, every Go process on the host,
 * narrowed by {@code --pid} and {@code --exclude}. Each new binary is inspected and probed, and
 * released once no process has run it for {@link #BINARY_LINGER}; a Go binary braid cannot trace
 * is reported once, with the reason, and left alone. A process that exec's another program is
 * reported as exited, then found again as that program.
 *
 * <p>Not thread-safe: the pipeline thread calls it.
 */
final class ProcessWatcher {
  private static final System.Logger LOG = System.getLogger(ProcessWatcher.class.getName());
  /**
   * How long a binary no process runs keeps its probes: a program started again soon (a cron job,
   * a restart) finds them in place; one gone for good releases them.
   */
  static final Duration BINARY_LINGER = Duration.ofSeconds(10);
  /** Binaries left alone (not Go, refused), or warned about, that are remembered; the least recently met are looked at again beyond. */
  private static final int LEFT_ALONE_REMEMBERED = 4096;

  /** What the watcher reports. */
  interface Listener {
    void started(int pid, GoProgram program);

    void exited(int pid);
  }

  private final DaemonConfig config;
  private final Tracer tracer;
  private final Listener listener;
  private final Map<FileIdentity, GoProgram> programs = new HashMap<>();
  private final Map<FileIdentity, Long> idleSince = new HashMap<>();
  private final Cache<FileIdentity, Boolean> leftAlone = Caffeine.newBuilder().maximumSize(LEFT_ALONE_REMEMBERED).executor(Runnable::run).build();
  private final Cache<FileIdentity, Boolean> warned = Caffeine.newBuilder().maximumSize(LEFT_ALONE_REMEMBERED).executor(Runnable::run).build();
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
        GoProgram known = running.get(pid);
        if (known != null) {
          if (FileIdentity.ofProcess(pid).map(known.identity()::equals).orElse(true)) {
            seen.add(pid);
            continue;
          }
          // It exec'd another program: the one it ran has exited, and this one is looked at anew.
          running.remove(pid);
          listener.exited(pid);
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
    skippedPids.removeIf(pid -> !Files.exists(Path.of("/proc", Integer.toString(pid))));
    releaseIdleBinaries();
  }

  /**
   * Without --exe, a binary no process has run for {@link #BINARY_LINGER} is released: its probes
   * are detached and its id freed, so that a host where binaries come and go (deploys, builds,
   * tests) holds probes only for what runs.
   */
  private void releaseIdleBinaries() {
    if (config.executable().isPresent()) {
      return;
    }
    long now = System.nanoTime();
    Set<FileIdentity> inUse = new HashSet<>();
    running.values().forEach(p -> inUse.add(p.identity()));
    for (GoProgram program : List.copyOf(programs.values())) {
      FileIdentity identity = program.identity();
      if (inUse.contains(identity)) {
        idleSince.remove(identity);
      } else if (now - idleSince.computeIfAbsent(identity, i -> now) >= BINARY_LINGER.toNanos()) {
        idleSince.remove(identity);
        programs.remove(identity);
        tracer.release(program);
        LOG.log(Level.DEBUG, () -> "released " + program.path() + ": no process has run it for " + BINARY_LINGER.toSeconds() + " s");
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
    if (now.isPresent() && !programs.containsKey(now.get()) && leftAlone.getIfPresent(now.get()) == null) {
      LOG.log(Level.INFO, executable + " was replaced; probing the new file");
      try {
        instrumentExecutable(executable);
      } catch (UnsupportedBinaryException e) {
        leftAlone.put(now.get(), true);
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
    if (leftAlone.getIfPresent(identity.get()) != null) {
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
      leftAlone.put(identity.get(), true);
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
      leftAlone.put(identity.get(), true);
      LOG.log(e.notGo() ? Level.DEBUG : Level.WARNING, () -> "pid " + pid + " (" + comm + ") is left alone: " + e.getMessage());
      return Optional.empty();
    } catch (RuntimeException e) {
      leftAlone.put(identity.get(), true);
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

  /** A binary's warnings, said once however often it is probed again (a program that comes and goes). */
  private void warnings(GoProgram program) {
    if (warned.getIfPresent(program.identity()) != null) {
      return;
    }
    warned.put(program.identity(), true);
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
