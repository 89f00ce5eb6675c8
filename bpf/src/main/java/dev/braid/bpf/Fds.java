package dev.braid.bpf;

/** Closes raw file descriptors that braid owns. */
final class Fds {
  private Fds() {}

  static void close(int fd) {
    try {
      int rc = (int) Libbpf.C.CLOSE.invokeExact(fd);
      assert rc == 0 : "close(" + fd + ") failed";
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }
}
