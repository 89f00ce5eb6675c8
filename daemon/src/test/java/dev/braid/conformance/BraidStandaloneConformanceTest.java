package dev.braid.conformance;

/** braid standalone, writing traces_ctx_v1 and reading it for its own samples: {@code braid run}. */
class BraidStandaloneConformanceTest extends TracesCtxV1WriterSuite {
  @Override
  protected String writerCommand() {
    return BraidCommand.run("--mode standalone --ctx-source switch");
  }
}
