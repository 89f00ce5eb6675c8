package dev.braid.bpf;

import java.lang.foreign.MemorySegment;

/**
 * An attached program ({@code bpf_link*}). Closing it detaches the program; close is idempotent.
 * Not thread-safe.
 */
public final class BpfLink implements AutoCloseable {
  private final String description;
  private MemorySegment handle;
  private Runnable detach; // for attachments that are not bpf_link objects (bpf_prog_attach)

  BpfLink(String description, MemorySegment handle) {
    this.description = description;
    this.handle = handle;
  }

  /** An attachment made with bpf_prog_attach, undone by {@code detach}. */
  BpfLink(String description, Runnable detach) {
    this.description = description;
    this.detach = detach;
  }

  /** What this link attaches, for logs: {@code program go_execute: uprobe /bin/shop+0x547c4}. */
  public String description() {
    return description;
  }

  @Override
  public void close() {
    if (detach != null) {
      Runnable d = detach;
      detach = null;
      d.run();
      return;
    }
    if (handle == null) {
      return;
    }
    try {
      int rc = (int) Libbpf.H.LINK_DESTROY.invokeExact(handle);
      if (rc < 0) {
        throw new BpfAttachException(description + ": detach", -rc, "");
      }
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    } finally {
      handle = null;
    }
  }

  @Override
  public String toString() {
    return description;
  }
}
