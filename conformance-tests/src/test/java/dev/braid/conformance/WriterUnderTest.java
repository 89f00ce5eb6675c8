package dev.braid.conformance;

/** A running traces_ctx_v1 writer; closing it stops it the way its users would (SIGTERM). */
public interface WriterUnderTest extends AutoCloseable {
  @Override
  void close() throws Exception;

  /** The writer refused to start; its own words say why. */
  final class Refused extends Exception {
    public Refused(String message) {
      super(message);
    }
  }
}
