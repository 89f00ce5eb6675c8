package dev.braid.bpf;

/** The system lacks something braid needs: libbpf, a kernel feature, a privilege. */
public final class BpfNotSupportedException extends BpfException {
  BpfNotSupportedException(String where, int errno, String detail) {
    super(where, errno, detail);
  }

  BpfNotSupportedException(String message, Throwable cause) {
    super(message, cause);
  }
}
