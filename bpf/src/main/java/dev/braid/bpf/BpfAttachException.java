package dev.braid.bpf;

/** A program could not be attached (uprobe, perf event, tracepoint). */
public final class BpfAttachException extends BpfException {
  BpfAttachException(String where, int errno, String libbpfMessage) {
    super(where, errno, libbpfMessage);
  }
}
