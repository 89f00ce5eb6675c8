package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.examples.Examples;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Correct writers shaped unlike braid pass the contract level: the suite judges what OTEP 4855
 * asks, not braid's way of doing it. Each is braid's writer made to behave like another (OBI's
 * nested span and gRPC export; a writer that attaches to a process seconds after it starts and
 * keeps running when it refuses a pin).
 */
@Tag("kernel")
class WritersUnlikeBraidTest {
  private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java") + " --enable-native-access=ALL-UNNAMED"
      + " --sun-misc-unsafe-memory-access=allow -cp " + System.getProperty("java.class.path");

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  private static Report judge(String writer) throws Exception {
    try (PinRoot pins = PinRoot.create()) {
      Report r = new ConformanceSuite(Examples.binary("shop"), pins.path(), writer).run();
      System.out.print(r.text()); // the figures, in the build's log
      return r;
    }
  }

  private static List<String> failed(Report r, CheckResult.Level level) {
    return r.checks().stream().filter(c -> c.level() == level && !c.passed()).map(c -> c.clause() + " " + c.check()).toList();
  }

  /**
   * Entries name a span nested in the server span, and spans reach the suite over OTLP/gRPC
   * alone: every in-handler sample is right, and right with the innermost span.
   */
  @Test
  void aWriterThatStampsNestedSpansAndExportsOverGrpcOnlyIsConformant() throws Exception {
    Report r = judge(JAVA + " " + NestedSpansGrpcWriter.class.getName() + " '" + BraidCommand.run("--mode writer --otlp-endpoint {relay}") + "'");
    assertThat(failed(r, CheckResult.Level.CONTRACT)).as(r.text()).isEmpty();
    assertThat(r.conformant()).isTrue();
    assertThat(r.profilePassed()).as(r.text()).isTrue();
    CheckResult audit = r.checks().stream().filter(c -> c.check().startsWith("every sample inside")).findFirst().orElseThrow();
    assertThat(audit.counts().get("right")).as(audit.figure()).isGreaterThanOrEqualTo(1000).isEqualTo(audit.counts().get("innermost"));
    assertThat(audit.counts().get("requests_unjudged")).as(audit.figure()).isLessThan(audit.counts().get("requests") / 20);
  }

  /**
   * It covers each process 5 s after the process started, and when it meets a pin of another
   * layout it leaves it alone but runs on: conformant; only braid's own "stop" fails.
   */
  @Test
  void aWriterThatAttachesLateAndKeepsRunningAfterRefusingAPinIsConformant() throws Exception {
    Report r = judge(BraidCommand.run("--mode writer --min-process-age 5s") + "; exec sleep 600");
    assertThat(failed(r, CheckResult.Level.CONTRACT)).as(r.text()).isEmpty();
    assertThat(failed(r, CheckResult.Level.PROFILE)).as(r.text())
        .containsExactly("2.2 a writer that meets a pin of another layout says what differs and stops");
    // The killed process was judged once covered, 5 s or more after it started.
    assertThat(r.checks()).filteredOn(c -> c.check().equals("a killed process leaves no entry")).singleElement()
        .satisfies(c -> assertThat(Double.parseDouble(c.figure().replaceAll(".*covered after ([0-9.]+) s.*", "$1"))).as(c.figure()).isGreaterThanOrEqualTo(4.5));
  }
}
