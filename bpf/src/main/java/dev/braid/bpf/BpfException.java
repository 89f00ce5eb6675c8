package dev.braid.bpf;

/**
 * A failed BPF operation. The message reads like a path, {@code map traces_ctx_v1: update: EPERM
 * (1)}, followed by what libbpf itself printed while the operation ran, if anything.
 *
 * <p>Subclasses tell what failed: {@link BpfLoadException} (the verifier, with its log), {@link
 * BpfAttachException}, {@link BpfMapException}, and {@link BpfNotSupportedException} when the
 * kernel or the system lacks a feature.
 */
public sealed class BpfException extends RuntimeException
    permits BpfLoadException, BpfAttachException, BpfMapException, BpfNotSupportedException {

  private final int errno;

  BpfException(String where, int errno, String libbpfMessage) {
    super(message(where, errno, libbpfMessage));
    this.errno = errno;
  }

  BpfException(String message, Throwable cause) {
    super(message, cause);
    this.errno = 0;
  }

  /** The positive errno of the failure, or 0 when none applies. */
  public int errno() {
    return errno;
  }

  private static String message(String where, int errno, String libbpfMessage) {
    StringBuilder sb = new StringBuilder(where);
    if (errno != 0) {
      sb.append(": ").append(Errno.describe(errno));
    }
    if (libbpfMessage != null && !libbpfMessage.isBlank()) {
      for (String line : libbpfMessage.strip().split("\n")) {
        sb.append("\nlibbpf: ").append(line.startsWith("libbpf: ") ? line.substring(8) : line);
      }
    }
    return sb.toString();
  }
}
