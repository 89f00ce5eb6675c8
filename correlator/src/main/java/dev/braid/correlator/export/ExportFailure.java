package dev.braid.correlator.export;

/**
 * A request the collector did not take. {@code retryable}: it may take it later (down, busy,
 * throttling), so the request is kept and sent again; otherwise it is dropped and counted.
 */
public final class ExportFailure extends Exception {
  private final boolean retryable;

  public ExportFailure(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }
}
