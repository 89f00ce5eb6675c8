package dev.braid.conformance;

/** braid as a writer for another eBPF profiler: {@code braid run --mode writer}. */
class BraidWriterConformanceTest extends TracesCtxV1WriterSuite {
  @Override
  protected String writerCommand() {
    return BraidCommand.run("--mode writer");
  }
}
