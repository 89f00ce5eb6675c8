package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.examples.Examples;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The suite catches what it should: a writer that leaves entries behind, one that leaves an entry
 * when it is stopped mid-request, and one whose map has another layout, fail exactly the checks
 * for that; braid with {@code --ctx-source sample} keeps no map and the report says so.
 * (conformance-tests/ runs it on braid's writer, which passes, and on correct writers shaped
 * unlike braid, which pass the contract.)
 */
@Tag("kernel")
class ConformanceSuiteTest {
  private static final String JAVA =
      Path.of(System.getProperty("java.home"), "bin", "java") + " --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "
          + System.getProperty("java.class.path");
  private static final String BRAID_WRITER = JAVA + " dev.braid.daemon.cli.BraidCli run --mode writer --exe {exe} --pin-path {pin-path}"
      + " --out " + Path.of("target", "groundtruth", "conformance-writer").toAbsolutePath() + " --flush-interval 1s --log-level warn";

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  private static Report judge(String writer) throws Exception {
    try (PinRoot pins = PinRoot.create()) {
      return new ConformanceSuite(Examples.binary("shop"), pins.path(), writer).run();
    }
  }

  private static List<String> failed(Report r) {
    return r.checks().stream().filter(c -> !c.passed()).map(c -> c.clause() + " " + c.level().label() + ": " + c.check()).toList();
  }

  @Test
  void aWriterAlreadyRunningIsJudgedWithoutStartingOrStoppingIt() throws Exception {
    InetSocketAddress listen;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), free.getLocalPort());
    }
    Report r;
    try (PinRoot pins = PinRoot.create();
        WriterProcess running = WriterProcess.start(BRAID_WRITER + " --otlp-endpoint http://127.0.0.1:" + listen.getPort(), Examples.binary("shop"), pins.path(), "none", "none")) {
      r = ConformanceSuite.forRunningWriter(Examples.binary("shop"), pins.path(), listen, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).run();
      assertThat(running.alive()).as("the suite left the writer running").isTrue();
    }
    assertThat(failed(r)).as(r.text()).isEmpty();
    assertThat(r.checks()).extracting(CheckResult::clause).contains("1.1", "1.3", "3.1", "3.3", "3.4", "3.5").doesNotContain("2.1", "2.2", "2.4");
    assertThat(r.notRun()).hasSize(4);
    assertThat(r.text()).contains("not run: 3.5, 2.4: a writer that stops").contains("3.1, 3.3 on gRPC: the audit of a gRPC service");
  }

  @Test
  void braidWithSampleTimeContextIsNoWriterAndTheSuiteSaysWhy() throws Exception {
    Report r = judge(BRAID_WRITER.replace("--mode writer", "--mode writer --ctx-source sample"));
    assertThat(failed(r)).as(r.text()).containsExactly("1.1 contract: pinned at PIN/otel/traces_ctx_v1");
    assertThat(r.checks().getFirst().figure()).contains("--ctx-source sample keeps no traces_ctx_v1");
  }

  @Test
  void aWriterThatLeavesEntriesBehindIsCaught() throws Exception {
    // The stale writer pins first and watches; braid's writer, started once the pin exists, reuses it.
    Report r = judge(JAVA + " " + StaleEntriesWriter.class.getName() + " {pin-path} & "
        + "for i in $(seq 600); do [ -e {pin-path}/otel/traces_ctx_v1 ] && break; sleep 0.05; done; " + BRAID_WRITER + "; wait");
    assertThat(failed(r)).as(r.text())
        .containsExactlyInAnyOrder("3.4 contract: no entry shows a request that ended", "3.5 contract: a killed process leaves no entry",
            "3.5 profile: a killed process leaves no entry within 2 s",
            "3.5 contract: a thread that exits mid-request leaves no entry",
            "3.1 contract: every sample inside a handler shows its request's exported span",
            "3.3 contract: any other sample shows no span, or its goroutine's own around the handler",
            "2.4 contract: when the second stops, the pin and the first writer's entries stay",
            "3.5 contract: a writer stopped mid-request leaves no entry once the request ended");
    assertThat(r.conformant()).isFalse();
    // 3.4 caught the ended request's entry (not a request it never saw).
    assertThat(r.checks()).filteredOn(c -> c.clause().equals("3.4")).singleElement()
        .satisfies(c -> assertThat(c.figure()).containsPattern("^[1-9][0-9]* entries of the ended requests"));
    // The audit tells why: spans that had ended, shown inside later requests and elsewhere.
    assertThat(r.checks()).filteredOn(c -> !c.passed() && c.check().startsWith("every sample")).singleElement()
        .satisfies(c -> assertThat(c.figure()).containsPattern(", [1-9][0-9]* stale"));
  }

  /**
   * A writer that leaves the gRPC service alone (braid told to trace the HTTP shop whatever the
   * suite asks) passes the HTTP checks and fails the audit on gRPC, saying it never showed a call.
   */
  @Test
  void aWriterThatDoesNotTraceTheGrpcServiceFailsItsAudit() throws Exception {
    Path shop = Examples.binary("shop");
    Report r;
    try (PinRoot pins = PinRoot.create()) {
      String tracesShopForGrpcshop = "case {exe} in *grpcshop) exe=" + shop + ";; *) exe={exe};; esac; " + BRAID_WRITER.replace("{exe}", "$exe");
      // braid covers a process within a second: 10 s is plenty to be sure it never will.
      r = new ConformanceSuite(shop, pins.path(), tracesShopForGrpcshop)
          .withGrpc(Examples.binary("grpcshop"), Examples.binary("grpcload")).withCoverWithin(Duration.ofSeconds(10)).run();
    }
    assertThat(failed(r)).as(r.text()).containsExactly("3.1 contract: every sample inside a handler shows its request's exported span (gRPC)");
    assertThat(r.checks()).filteredOn(c -> !c.passed()).singleElement()
        .satisfies(c -> assertThat(c.figure()).startsWith("within 10 s, grpcshop (pid ").contains(") showed no entry while a call ran; the writer said:"));
  }

  /**
   * A writer that cannot clean up when it stops (braid killed with SIGKILL as soon as the suite
   * sends SIGTERM; the JVM inherits SIGTERM ignored) leaves the entry of the request it was
   * showing: idle, it leaves none, so only the mid-request stop catches it.
   */
  @Test
  void aWriterThatLeavesAnEntryWhenStoppedMidRequestIsCaught() throws Exception {
    Report r = judge("trap '' TERM; " + BRAID_WRITER + " & b=$!; trap 'kill -KILL $b' TERM; wait $b");
    assertThat(failed(r)).as(r.text()).containsExactly("3.5 contract: a writer stopped mid-request leaves no entry once the request ended");
    assertThat(r.checks()).filteredOn(c -> !c.passed()).singleElement()
        .satisfies(c -> assertThat(c.figure()).containsPattern("^[1-9][0-9]* entries left after the request ended"));
  }

  @Test
  void aMapOfAnotherLayoutIsCaught() throws Exception {
    Report r = judge(JAVA + " " + ForeignLayoutWriter.class.getName() + " {pin-path}");
    // A map of its own layout, met where traces_ctx_v1 is pinned, looks right to it: it never stops
    // for 2.2, though it leaves that pin alone (what the contract asks).
    assertThat(failed(r)).as(r.text()).containsExactly("1.3 contract: LRU hash, 16384 entries, key 8, value 24, flags 0",
        "1.3 profile: the value's BTF is struct {trace_id[16]; span_id[8]}",
        "2.2 profile: a writer that meets a pin of another layout says what differs and stops");
    assertThat(r.conformant()).isFalse();
    assertThat(r.checks()).filteredOn(c -> c.check().startsWith("LRU hash")).singleElement()
        .satisfies(c -> assertThat(c.figure()).contains("value size 16 (want 24)", "type hash"));
    assertThat(r.checks()).filteredOn(c -> c.check().startsWith("the value's BTF")).singleElement()
        .satisfies(c -> assertThat(c.figure()).isEqualTo("the value's type is no struct"));
  }
}
