package dev.braid.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** Raw file descriptors that braid owns. */
final class Fds {
  private static final int O_RDONLY = 0;
  private static final int O_DIRECTORY = 0200000;
  private static final int O_CLOEXEC = 02000000;

  private Fds() {}

  /** Opens a directory (a cgroup) read-only; the caller closes the fd. */
  static int openDirectory(Path dir, String where) {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment errno = Libbpf.newErrnoState(call);
      int fd = (int) Libbpf.C.OPEN.invokeExact(errno, call.allocateFrom(dir.toString()), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) {
        throw new BpfAttachException(where + ": open " + dir, Libbpf.errno(errno), "");
      }
      return fd;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  static void close(int fd) {
    try {
      int rc = (int) Libbpf.C.CLOSE.invokeExact(fd);
      assert rc == 0 : "close(" + fd + ") failed";
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }
}
