package dev.braid.conformance;

/**
 * The writer under test: one the suite starts ({@link WriterProcess}), or one that was already
 * running ({@link #alreadyRunning()}), which the suite can neither stop nor start again.
 */
public sealed interface Writer extends AutoCloseable permits WriterProcess, Writer.AlreadyRunning {
  boolean alive();

  /** What the writer said lately, to show when a check fails. */
  String tail();

  /** Whether the suite started it, and so may stop it and start more of it. */
  boolean startedBySuite();

  @Override
  void close() throws InterruptedException;

  static Writer alreadyRunning() {
    return new AlreadyRunning();
  }

  /** A writer someone else started: always there as far as the suite knows; its log is its own. */
  record AlreadyRunning() implements Writer {
    @Override
    public boolean alive() {
      return true;
    }

    @Override
    public String tail() {
      return "(the writer was already running: see its own log)";
    }

    @Override
    public boolean startedBySuite() {
      return false;
    }

    @Override
    public void close() {}
  }
}
