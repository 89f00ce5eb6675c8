package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A program of a loaded {@link BpfObject}: a view that dies with the object. Each attach returns
 * a {@link BpfLink} that the caller owns and must close before the object.
 */
public final class BpfProgram {
  /** Attach a uprobe in every process that maps the binary, present and future. */
  public static final int ALL_PROCESSES = -1;

  // struct bpf_uprobe_opts of libbpf 1.1: sz, ref_ctr_offset, bpf_cookie, retprobe, func_name.
  // Newer libbpf appends fields and reads only the first sz bytes, so 40 works everywhere.
  private static final long UPROBE_OPTS_SIZE = 40;
  private static final long UPROBE_OPTS_COOKIE = 16;
  private static final long UPROBE_OPTS_FUNC_NAME = 32;
  private static final int BPF_SK_MSG_VERDICT = 7; // enum bpf_attach_type

  private final BpfObject object;
  private final String name;
  private final MemorySegment handle;

  BpfProgram(BpfObject object, String name, MemorySegment handle) {
    this.object = object;
    this.name = name;
    this.handle = handle;
  }

  public String name() {
    return name;
  }

  /**
   * Attaches as an entry uprobe at a file offset of an ELF binary.
   *
   * @param binary the executable or library
   * @param fileOffset the instruction's offset in the file (not its virtual address)
   * @param pid one process, or {@link #ALL_PROCESSES}
   * @param cookie what {@code bpf_get_attach_cookie()} returns in the program
   */
  public BpfLink attachUprobe(Path binary, long fileOffset, int pid, long cookie) {
    return attachUprobe(binary, null, fileOffset, pid, cookie);
  }

  /**
   * Attaches as an entry uprobe at {@code offset} bytes into an ELF symbol, which libbpf finds in
   * the binary's {@code .symtab} or {@code .dynsym} (so not in stripped binaries: use file offsets
   * there).
   */
  public BpfLink attachUprobe(Path binary, String symbol, long offset, int pid, long cookie) {
    object.requireLoaded("attach " + name);
    String where =
        "program " + name + ": uprobe " + binary + (symbol == null ? "" : ":" + symbol) + "+0x" + Long.toHexString(offset);
    try (Arena call = Arena.ofConfined()) {
      MemorySegment opts = call.allocate(UPROBE_OPTS_SIZE);
      opts.set(JAVA_LONG, 0, UPROBE_OPTS_SIZE);
      opts.set(JAVA_LONG, UPROBE_OPTS_COOKIE, cookie);
      if (symbol != null) {
        opts.set(ADDRESS, UPROBE_OPTS_FUNC_NAME, call.allocateFrom(symbol));
      }
      MemorySegment path = call.allocateFrom(binary.toString());
      MemorySegment errno = Libbpf.newErrnoState(call);
      LibbpfLog.begin();
      MemorySegment link =
          (MemorySegment) Libbpf.H.PROGRAM_ATTACH_UPROBE_OPTS.invokeExact(errno, handle, pid, path, offset, opts);
      return linkOrThrow(link, errno, where);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** Attaches where the program's section says (tracepoints, for instance). */
  public BpfLink attach() {
    object.requireLoaded("attach " + name);
    try (Arena call = Arena.ofConfined()) {
      MemorySegment errno = Libbpf.newErrnoState(call);
      LibbpfLog.begin();
      MemorySegment link = (MemorySegment) Libbpf.H.PROGRAM_ATTACH.invokeExact(errno, handle);
      return linkOrThrow(link, errno, "program " + name + ": attach");
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * Runs this perf_event program on one CPU from a software CPU clock at {@code frequencyHz}
   * samples a second. The returned link owns the perf event.
   */
  public BpfLink attachCpuClock(int cpu, long frequencyHz) {
    object.requireLoaded("attach " + name);
    int pfd = PerfEvents.openCpuClock(cpu, frequencyHz);
    try (Arena call = Arena.ofConfined()) {
      MemorySegment errno = Libbpf.newErrnoState(call);
      LibbpfLog.begin();
      MemorySegment link = (MemorySegment) Libbpf.H.PROGRAM_ATTACH_PERF_EVENT.invokeExact(errno, handle, pfd);
      if (link.equals(MemorySegment.NULL)) {
        Fds.close(pfd);
      }
      // On success libbpf's link owns pfd: destroying the link disables and closes it.
      return linkOrThrow(link, errno, "program " + name + ": perf event on cpu " + cpu);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * {@link #attachCpuClock} on every online CPU; if one fails, those already attached are
   * detached before the failure is thrown.
   */
  public List<BpfLink> attachCpuClockOnEveryCpu(long frequencyHz) {
    List<BpfLink> links = new ArrayList<>();
    try {
      for (int cpu : Cpus.online()) {
        links.add(attachCpuClock(cpu, frequencyHz));
      }
      return links;
    } catch (RuntimeException e) {
      links.forEach(BpfLink::close);
      throw e;
    }
  }

  /** Attaches a cgroup program (sock_ops, for instance) to the cgroup v2 directory {@code cgroup}. */
  public BpfLink attachCgroup(Path cgroup) {
    object.requireLoaded("attach " + name);
    String where = "program " + name + ": cgroup " + cgroup;
    int fd = Fds.openDirectory(cgroup, where);
    try (Arena call = Arena.ofConfined()) {
      MemorySegment errno = Libbpf.newErrnoState(call);
      LibbpfLog.begin();
      MemorySegment link = (MemorySegment) Libbpf.H.PROGRAM_ATTACH_CGROUP.invokeExact(errno, handle, fd);
      return linkOrThrow(link, errno, where); // the link holds the cgroup; our fd is not needed
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    } finally {
      Fds.close(fd);
    }
  }

  /** Attaches this sk_msg program as the verdict program of a sockmap or sockhash. */
  public BpfLink attachSkMsg(BpfMap sockMap) {
    object.requireLoaded("attach " + name);
    String where = "program " + name + ": sk_msg verdict of map " + sockMap.name();
    int prog = fd();
    int map = sockMap.fd();
    int rc;
    try {
      LibbpfLog.begin();
      rc = (int) Libbpf.H.PROG_ATTACH.invokeExact(prog, map, BPF_SK_MSG_VERDICT, 0);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
    if (rc < 0) {
      throw new BpfAttachException(where, -rc, LibbpfLog.recent());
    }
    return new BpfLink(
        where,
        () -> {
          try {
            int d = (int) Libbpf.H.PROG_DETACH2.invokeExact(prog, map, BPF_SK_MSG_VERDICT);
            if (d < 0) {
              throw new BpfAttachException(where + ": detach", -d, "");
            }
          } catch (Throwable t) {
            throw Libbpf.rethrow(t);
          }
        });
  }

  /** The program's fd; valid while its object is open. */
  public int fd() {
    object.requireLoaded("fd of " + name);
    try {
      return (int) Libbpf.H.PROGRAM_FD.invokeExact(handle);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  private static BpfLink linkOrThrow(MemorySegment link, MemorySegment errno, String where) {
    if (link.equals(MemorySegment.NULL)) {
      int e = Libbpf.errno(errno);
      throw new BpfAttachException(where, e == 0 ? Errno.EINVAL : e, LibbpfLog.recent());
    }
    return new BpfLink(where, link);
  }

}
