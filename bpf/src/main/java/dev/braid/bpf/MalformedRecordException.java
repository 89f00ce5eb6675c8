package dev.braid.bpf;

/**
 * A ring-buffer record that cannot be decoded: shorter than its kind's layout, of an unknown kind,
 * or with a field out of range. The reader counts it and goes on ({@link RingBufferReader#handlerFailures()}).
 */
public final class MalformedRecordException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public MalformedRecordException(String message) {
    super(message);
  }
}
