package dev.braid.correlator;

/**
 * Where the daemon's batches go: a file, a directory, a collector. The pipeline thread calls
 * {@link #write} once per flush; a failure there is logged and the other outputs still get the
 * batch.
 */
public interface Output extends AutoCloseable {
  /** What the logs call this output. */
  String name();

  void write(Batch batch);

  @Override
  void close();
}
