package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.CompletedSpan;
import dev.braid.examples.Examples;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * net/http over HTTP/2, as Go HTTPS servers speak it by default (ALPN h2) and as Go 1.24+ serves
 * it without TLS to clients with prior knowledge (h2c): a server span per request that ends when
 * its handler returns, with the status the handler wrote. The load generator records the protocol
 * each response came in: the ground truth that HTTP/2 was spoken. (Client spans over HTTP/2:
 * HardCasesTest; every Go release, stripped: GoReleasesTest.)
 */
@Tag("kernel")
class Http2Test {
  private static final Duration LOAD = Duration.ofSeconds(4);
  private static final AttributeKey<String> PROTOCOL_VERSION = CompletedSpan.NETWORK_PROTOCOL_VERSION;

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void overTlsEveryRequestIsAServerSpanThatEndsWithItsHandler() {
    TracedRun.Service shop = TracedRun.Service.shop(Examples.binary("shop"), "-spinners", "1").overTls();
    TracedRun run = TracedRun.run(List.of(shop), http2Load(), UnaryOperator.identity());
    exactOverHttp2(run);
  }

  @Test
  void withPriorKnowledgeWithoutTlsEveryRequestIsAServerSpanThatEndsWithItsHandler() {
    TracedRun.Service shop = TracedRun.Service.shop(Examples.binary("shop"), "-spinners", "1", "-h2c");
    TracedRun run = TracedRun.run(List.of(shop), http2Load(), UnaryOperator.identity());
    exactOverHttp2(run);
  }

  /** CPU routes and one that answers 500, over HTTP/2, until the burn functions have samples to judge. */
  private static TracedRun.Load http2Load() {
    return new TracedRun.Load("shop", "/checkout?ms=4,/search?ms=4,/fail,/hello", LOAD, 2).overHttp2()
        .until(Goal.samplesIn("main.priceCart", 50).and(Goal.samplesIn("main.rankResults", 50)).and(Goal.samplesIn("main.compactIndex", 100)));
  }

  /**
   * Every request was answered over HTTP/2 and is one server span of its trace, with the sent
   * parent, the status the handler wrote, HTTP/2 as its version, and an error status exactly for
   * the 500; samples are exact.
   */
  private static void exactOverHttp2(TracedRun run) {
    assertThat(run.sent()).isNotEmpty().allSatisfy(r -> assertThat(r.get("proto").asText()).as("protocol of %s", r).isEqualTo("HTTP/2.0"));
    Map<String, CompletedSpan> byTrace = run.spans().stream().collect(Collectors.toMap(s -> s.context().traceId(), s -> s));
    assertThat(byTrace).hasSameSizeAs(run.sent());
    for (JsonNode r : run.sent()) {
      CompletedSpan span = byTrace.get(r.get("trace_id").asText());
      assertThat(span).as("server span of trace %s", r.get("trace_id").asText()).isNotNull();
      String route = r.get("route").asText();
      int status = route.equals("/fail") ? 500 : 200;
      assertThat(r.get("status").asInt()).isEqualTo(status);
      assertThat(span.kind()).isEqualTo(SpanKind.SERVER);
      assertThat(span.parentSpanId()).isEqualTo(r.get("parent_span_id").asText());
      assertThat(span.endReason()).as("end of %s", span.name()).isEqualTo(dev.braid.tracer.SpanEvent.EndReason.FINISHED);
      assertThat(span.attributes().get(CompletedSpan.HTTP_RESPONSE_STATUS_CODE)).isEqualTo(status);
      assertThat(span.attributes().get(PROTOCOL_VERSION)).isEqualTo("2");
      assertThat(span.attributes().get(CompletedSpan.HTTP_ROUTE)).isEqualTo(route);
      assertThat(span.status().getStatusCode()).as("status of %s", span.name()).isEqualTo(status == 500 ? StatusCode.ERROR : StatusCode.UNSET);
    }
    Attribution.noSampleCarriesAWrongOrStaleSpan(run);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/checkout", "main.priceCart", 50);
    Attribution.burnSamplesCarryTheirRoutesSpan(run, "/search", "main.rankResults", 50);
    Attribution.untracedWorkCarriesNoSpan(run, 100);
  }
}
