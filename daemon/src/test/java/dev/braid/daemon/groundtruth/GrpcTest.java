package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.CompletedSpan;
import dev.braid.examples.Examples;
import dev.braid.examples.GoBuild;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import dev.braid.tracer.SpanEvent;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * gRPC servers (google.golang.org/grpc) against ground truth: examples/grpc's Orders service,
 * whose methods burn CPU in functions of their own, driven by grpcload, which sends a traceparent
 * in each RPC's metadata (as otelgrpc does) and records each RPC's status code.
 */
@Tag("kernel")
class GrpcTest {
  private static final Duration LOAD = Duration.ofSeconds(4);
  /** A load that goes on until its goals are met needs no long minimum (the release matrices run it 7 times). */
  private static final Duration LOAD_BEFORE_GOALS = Duration.ofSeconds(2);
  private static final String SERVICE = "/braid.shop.Orders/";
  /** Each method and the function its handler burns CPU in. */
  static final Map<String, String> BURNS =
      Map.of("Checkout", "main.priceOrder", "Fail", "main.failOrder", "Reject", "main.rejectOrder", "ListItems", "main.streamItem");

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void everyRpcUnaryOrStreamingIsOneServerSpanOfItsTraceAndItsSamplesAreExact() {
    exactRpcs(Examples.binary("grpcshop"), Examples.binary("grpcload"));
  }

  /**
   * Every Go release braid covers, each with the newest grpc it builds (examples/grpc-versions.txt:
   * from v1.67, where the server takes a transport.Stream, through the ServerStream that holds a
   * *Stream, to the one that holds a Stream). The relaying services are stripped (-s -w, PIE, no
   * cgo): their offsets come from grpc's offset table and Go's.
   */
  @ParameterizedTest(name = "{0} with grpc {1}")
  @MethodSource("releases")
  void everyGoReleaseWithItsGrpc(GoRelease release, String grpc) {
    Path client = GoBuilds.grpcBinary("grpcload", release, GoBuild.DEFAULT, grpc);
    exactRpcs(GoBuilds.grpcBinary("grpcshop", release, GoBuild.DEFAULT, grpc), client);
    relayedCallsAreClientSpans(GoBuilds.grpcBinary("grpcshop", release, GoBuild.STRIPPED_PIE_PURE, grpc), client);
  }

  static Stream<Arguments> releases() {
    return GoBuilds.covered().stream().map(r -> Arguments.of(r, GoBuilds.grpcVersionFor(r)));
  }

  /**
   * The frontend's Relay, RelayFail and RelayItems call the backend (a unary call that succeeds,
   * one that fails, a stream): each is a CLIENT span, child of the server span of the RPC that made
   * it, named by the method it called, with its status; the backend's spans are of traces of their
   * own (braid does not propagate into gRPC metadata).
   */
  @Test
  void aCallMadeInAnRpcIsAClientSpanNestedInItsServerSpan() {
    relayedCallsAreClientSpans(Examples.binary("grpcshop"), Examples.binary("grpcload"));
  }

  static void relayedCallsAreClientSpans(Path shop, Path load) {
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(shop).named("backend"), TracedRun.Service.shop(shop, "-relay-to", "{{backend}}").named("frontend")),
            new TracedRun.Load("frontend", "Relay:3,RelayFail:1,RelayItems:3", LOAD, 2).sentBy(load)
                .until(Goal.samplesIn("main.relayReply", 50).and(Goal.samplesIn("main.priceOrder", 20)).and(Goal.samplesIn("main.streamItem", 20))),
            UnaryOperator.identity());
    Map<String, List<CompletedSpan>> byTrace = run.spans().stream().collect(Collectors.groupingBy(s -> s.context().traceId()));
    String backendPort = run.address("backend").substring(run.address("backend").lastIndexOf(':') + 1);
    for (JsonNode r : run.sent()) {
      String method = r.get("route").asText().substring(SERVICE.length());
      List<CompletedSpan> trace = byTrace.get(r.get("trace_id").asText());
      assertThat(trace).as("spans of trace %s", r.get("trace_id").asText()).hasSize(2);
      CompletedSpan server = trace.stream().filter(s -> s.kind() == SpanKind.SERVER).findFirst().orElseThrow();
      CompletedSpan client = trace.stream().filter(s -> s.kind() == SpanKind.CLIENT).findFirst().orElseThrow();
      String called = switch (method) {
        case "Relay" -> "Checkout";
        case "RelayFail" -> "Fail";
        default -> "ListItems";
      };
      boolean fails = method.equals("RelayFail");
      assertThat(r.get("status").asInt()).isEqualTo(fails ? 13 : 0);
      assertThat(server.process().pid()).isEqualTo(run.pid("frontend"));
      assertThat(server.parentSpanId()).isEqualTo(r.get("parent_span_id").asText());
      assertThat(server.name()).isEqualTo(SERVICE.substring(1) + method);
      assertThat(server.attributes().get(CompletedSpan.RPC_STATUS_CODE)).isEqualTo(fails ? "INTERNAL" : "OK");
      assertThat(client.process().pid()).isEqualTo(run.pid("frontend"));
      assertThat(client.parentSpanId()).isEqualTo(server.context().spanId());
      assertThat(client.endReason()).isEqualTo(SpanEvent.EndReason.FINISHED);
      assertThat(client.name()).isEqualTo(SERVICE.substring(1) + called);
      assertThat(client.attributes().get(CompletedSpan.RPC_SYSTEM_NAME)).isEqualTo("grpc");
      assertThat(client.attributes().get(CompletedSpan.RPC_STATUS_CODE)).isEqualTo(fails ? "INTERNAL" : "OK");
      assertThat(client.attributes().get(CompletedSpan.SERVER_ADDRESS)).isEqualTo("127.0.0.1");
      assertThat(client.attributes().get(CompletedSpan.SERVER_PORT)).isEqualTo(Long.parseLong(backendPort));
      assertThat(client.status().getStatusCode()).isEqualTo(fails ? StatusCode.ERROR : StatusCode.UNSET);
      assertThat(client.startEpochNanos()).isBetween(server.startEpochNanos(), server.endEpochNanos());
      assertThat(client.endEpochNanos()).isBetween(client.startEpochNanos(), server.endEpochNanos());
    }
    java.util.Set<String> sentTraces = run.sent().stream().map(r -> r.get("trace_id").asText()).collect(Collectors.toSet());
    assertThat(run.spans()).filteredOn(s -> s.process().pid() == run.pid("backend")).isNotEmpty()
        .allSatisfy(s -> assertThat(sentTraces).doesNotContain(s.context().traceId()));
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, SERVICE + "Checkout", "main.priceOrder", 20);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, SERVICE + "ListItems", "main.streamItem", 20);
    List<dev.braid.correlator.ProfiledSample> relaying = run.samplesIn("main.relayReply");
    dev.braid.bpf.testing.Figures.atLeast("main.relayReply samples", relaying.size(), 50);
    assertThat(relaying).allSatisfy(s -> assertThat(s.span().map(CompletedSpan::name)).hasValueSatisfying(n -> assertThat(n).isIn(SERVICE.substring(1) + "Relay", SERVICE.substring(1) + "RelayItems")));
  }

  /**
   * Runs the Orders service built as {@code server} under braid with RPCs of every method from
   * {@code client}, and checks every span and sample against what the client recorded.
   */
  static TracedRun exactRpcs(Path server, Path client) {
    Goal goal = BURNS.values().stream().map(f -> Goal.samplesIn(f, f.equals("main.priceOrder") ? 50 : 20)).reduce(Goal.samplesIn("main.compactIndex", 100), Goal::and);
    TracedRun run =
        TracedRun.run(
            List.of(TracedRun.Service.shop(server, "-spinners", "1")),
            new TracedRun.Load("shop", "Checkout:3,Fail:2,Reject:1,ListItems:4", LOAD_BEFORE_GOALS, 2).sentBy(client).until(goal),
            UnaryOperator.identity());
    everyRpcIsOneServerSpanOfItsTrace(run);
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    BURNS.forEach((method, burn) -> Attribution.burnSamplesCarryTheirRoutesSpan(run, SERVICE + method, burn, burn.equals("main.priceOrder") ? 50 : 20));
    Attribution.untracedWorkCarriesNoSpan(run, 100);
    return run;
  }

  /**
   * Every RPC that was sent became one server span of the sent trace, with the sent parent, the
   * method for its name, the status code the client got, and status ERROR exactly for the codes
   * that say the server failed (INTERNAL here; NOT_FOUND judges the request, and is no error).
   */
  static void everyRpcIsOneServerSpanOfItsTrace(TracedRun run) {
    assertThat(run.sent()).isNotEmpty();
    Map<String, CompletedSpan> byTrace = run.spans().stream().filter(s -> s.kind() == SpanKind.SERVER)
        .collect(Collectors.toMap(s -> s.context().traceId(), s -> s));
    assertThat(byTrace).hasSameSizeAs(run.sent());
    for (JsonNode r : run.sent()) {
      String method = r.get("route").asText();
      int code = r.get("status").asInt();
      assertThat(code).as("status of %s", r).isEqualTo(switch (method.substring(SERVICE.length())) {
        case "Fail" -> 13; // INTERNAL
        case "Reject" -> 5; // NOT_FOUND
        default -> 0;
      });
      CompletedSpan span = byTrace.get(r.get("trace_id").asText());
      assertThat(span).as("server span of trace %s", r.get("trace_id").asText()).isNotNull();
      assertThat(span.parentSpanId()).isEqualTo(r.get("parent_span_id").asText());
      assertThat(span.endReason()).as("end of %s", span.name()).isEqualTo(SpanEvent.EndReason.FINISHED);
      assertThat(span.name()).isEqualTo(method.substring(1));
      assertThat(span.attributes().get(CompletedSpan.RPC_SYSTEM_NAME)).isEqualTo("grpc");
      assertThat(span.attributes().get(CompletedSpan.RPC_METHOD)).isEqualTo(method.substring(1));
      assertThat(span.attributes().get(CompletedSpan.RPC_STATUS_CODE)).isEqualTo(switch (code) {
        case 13 -> "INTERNAL";
        case 5 -> "NOT_FOUND";
        default -> "OK";
      });
      assertThat(span.status().getStatusCode()).as("status of %s", span.name()).isEqualTo(code == 13 ? StatusCode.ERROR : StatusCode.UNSET);
      assertThat(span.attributes().get(CompletedSpan.ERROR_TYPE)).isEqualTo(code == 13 ? "INTERNAL" : null);
      // The span lies within the client's view of the RPC.
      assertThat(span.startEpochNanos()).isGreaterThanOrEqualTo(r.get("start_unix_ns").asLong() - 10_000_000);
      assertThat(span.endEpochNanos()).isLessThanOrEqualTo(r.get("end_unix_ns").asLong() + 10_000_000);
    }
  }
}
