package dev.braid.bpf;

/** A map operation failed, or a pinned map is not the map that was expected. */
public final class BpfMapException extends BpfException {
  BpfMapException(String where, int errno, String libbpfMessage) {
    super(where, errno, libbpfMessage);
  }
}
