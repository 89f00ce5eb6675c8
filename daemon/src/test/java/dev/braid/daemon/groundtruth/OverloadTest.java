package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.LogCapture;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProfiledSample;
import dev.braid.correlator.export.OtlpEndpoint;
import dev.braid.daemon.Daemon;
import dev.braid.examples.Examples;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.SpanKind;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * braid overloaded three ways at once, as a busy host overloads it: a service's requests each
 * fan out 100,000 goroutines (more than braid's goroutine state map holds), a request rate whose
 * span events overrun a small span ring buffer (--span-buffer 256K), and a collector that is down
 * behind a queue of 2 requests. Each loss is counted in the metrics and said once, with its fix;
 * none makes a wrong span, link or sample, or leaves an entry or state behind.
 */
@Tag("kernel")
class OverloadTest {
  private static final int BURST_GOROUTINES = 100_000;
  /** How long after a burst's answer its last goroutines may still be exiting, on a loaded machine. */
  private static final Duration BURST_EXITS = Duration.ofSeconds(1);
  private static final Duration LOAD = Duration.ofSeconds(10);
  /** A sample's time and the client's clock agree within this (the same host's clocks). */
  private static final long SLACK_NANOS = 5_000_000;

  /** A request the test sent itself: its trace and when it ran, as the client saw it. */
  record Sent(String traceId, String parentSpanId, String route, long startNanos, long endNanos) {}

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void lossesAreCountedAndSaidOnceAndNothingWrongComesOfThem() throws Exception {
    List<Sent> bursts = new CopyOnWriteArrayList<>();
    Map<String, Double> whenIdle = new HashMap<>();
    String collectorDown = "http://127.0.0.1:" + closedPort();
    try (LogCapture log = LogCapture.of("dev.braid")) {
      TracedRun run =
          TracedRun.run(
              List.of(TracedRun.Service.shop(Examples.binary("shop"))),
              new TracedRun.Load("shop", "/checkout?ms=1,/search?ms=1,/hello", LOAD, 16),
              c -> c.toBuilder()
                  .spanBuffer(256 << 10)
                  .otlp(OtlpEndpoint.configure(Optional.of(collectorDown), Optional.empty(), Map.of()).map(e -> e.withQueueRequests(2)))
                  .build(),
              (daemon, addresses) -> {
                long loadStarted = System.nanoTime();
                bursts.addAll(burstWhileTheLoadRuns(daemon, addresses.get("shop"), loadStarted));
                whenIdle.putAll(stateOnceIdle(daemon, loadStarted));
              });

      MeterRegistry m = run.metrics();
      long eventsLost = counter(m, "braid.span.events.lost");
      long endsKept = counter(m, "braid.span.ends.kept");
      long unspanned = counter(m, "braid.goroutines.unspanned");
      long exportDropped = (long) m.get("braid.export.items").tag("outcome", "dropped").counters().stream().mapToDouble(c -> c.count()).sum();
      Figures.record("span events lost to a full ring buffer (256 KiB)", eventsLost, "counted: braid_span_events_lost_total");
      Figures.record("span ends kept aside while it was full, exported with their time", endsKept, "braid_span_ends_kept_total");
      Figures.record("goroutines without their span: state map full", unspanned, "braid_goroutines_unspanned_total");
      Figures.record("items dropped from the OTLP queue (collector down)", exportDropped, "braid_export_items_spans_total{outcome=dropped}");
      assertThat(eventsLost).as("span events lost").isPositive();
      // A burst's goroutines beyond the map's 65536 go without: ~34,000 for each burst whose own
      // span start found room in the ring buffer (the others' goroutines have no span to inherit).
      assertThat(unspanned).as("goroutines without their span").isGreaterThanOrEqualTo(BURST_GOROUTINES - 65_536L);
      assertThat(exportDropped).as("items dropped from the OTLP queue").isPositive();
      // The ends that found the ring buffer full were kept aside, and each met its span's start:
      // no span went out with a guessed end, none stayed open.
      assertThat(endsKept).as("span ends kept aside").isPositive();
      assertThat(counter(m, "braid.spans.starts.lost")).as("span ends without their start").isZero();
      assertThat(counter(m, "braid.spans.ends.lost")).as("spans given a guessed end").isZero();
      assertThat(counter(m, "braid.spans.expired")).as("spans ended by braid").isZero();

      // Said once each (the run is shorter than the minute between reminders), with the fix.
      assertThat(log.warnings("span ring buffer full")).singleElement().asString().contains("Raise --span-buffer (to 512K");
      assertThat(log.warnings("goroutine state map full")).singleElement().asString().contains("never a wrong one");
      assertThat(log.warnings("the OTLP queue of traces is full")).singleElement().asString().contains("Raise --otlp-queue");

      // Nothing left behind once idle: no entry, no span open, no sample waiting. A burst's span
      // whose goroutines' values were seen entering the channel's buffer but not leaving it (those
      // events lost) is held for its receiver, 30 s at most (HandOffLinks), then goes out.
      assertThat(run.entriesWhenIdle()).as("traces_ctx_v1 entries once idle").allSatisfy((service, n) -> assertThat(n).isZero());
      assertThat(whenIdle).as("what braid holds once the load is over").containsEntry("braid.spans.open", 0.0).containsEntry("braid.samples.waiting", 0.0);
      assertThat(whenIdle.get("braid.links.pending")).as("spans held for a receiver").isLessThanOrEqualTo(bursts.size());

      // Nothing wrong: every span exported is of a request that was sent, once, with its parent and route.
      Map<String, Sent> sent = new HashMap<>();
      for (JsonNode r : run.sent()) {
        sent.put(r.get("trace_id").asText(), new Sent(r.get("trace_id").asText(), r.get("parent_span_id").asText(), r.get("route").asText(), r.get("start_unix_ns").asLong(), r.get("end_unix_ns").asLong()));
      }
      bursts.forEach(b -> sent.put(b.traceId(), b));
      Map<String, CompletedSpan> spanOfTrace = new HashMap<>();
      for (CompletedSpan span : run.spans()) {
        assertThat(span.kind()).isEqualTo(SpanKind.SERVER);
        Sent request = sent.get(span.context().traceId());
        assertThat(request).as("the request of exported trace %s", span.context().traceId()).isNotNull();
        assertThat(spanOfTrace.put(span.context().traceId(), span)).as("a second span of trace %s", span.context().traceId()).isNull();
        assertThat(span.parentSpanId()).isEqualTo(request.parentSpanId());
        assertThat(Attribution.path(span)).isEqualTo(request.route().replaceFirst("\\?.*", ""));
        assertThat(span.links()).as("links of %s (no request hands work to another)", span.name()).isEmpty();
        assertThat(span.attributes().get(CompletedSpan.END_REASON)).as("how %s ended", span.name()).isNull();
      }
      Figures.record("requests sent", sent.size(), bursts.size() + " of them bursts of " + BURST_GOROUTINES + " goroutines");
      Figures.record("requests exported as a span", spanOfTrace.size(), "the others' starts were lost to the full ring buffer");

      // Every sample with a context is of a request that ran then, and of its span when braid has it.
      long judged = 0;
      for (ProfiledSample s : run.samples()) {
        if (s.context().isEmpty()) {
          continue;
        }
        TraceContext ctx = s.context().get();
        Sent request = sent.get(ctx.traceId());
        assertThat(request).as("the request of a sample's trace %s (stack %s)", ctx.traceId(), Attribution.stack(s)).isNotNull();
        assertThat(s.epochNanos()).as("a sample of %s", request.route()).isBetween(request.startNanos() - SLACK_NANOS, request.endNanos() + SLACK_NANOS);
        long outlived = request.route().startsWith("/burst") ? BURST_EXITS.toNanos() : 0;
        s.span().ifPresent(span -> assertThat(s.epochNanos()).isBetween(span.startEpochNanos(), span.endEpochNanos() + outlived));
        judged++;
      }
      Figures.atLeast("samples with a context, each of a request that ran then", judged, 100);
      for (ProfiledSample s : run.samplesIn("main.priceCart")) {
        s.context().ifPresent(ctx -> assertThat(sent.get(ctx.traceId()).route()).startsWith("/checkout"));
      }
      for (ProfiledSample s : run.samplesIn("main.burstWork")) {
        s.context().ifPresent(ctx -> assertThat(sent.get(ctx.traceId()).route()).startsWith("/burst"));
      }
    }
  }

  private static final String PARENT = "00f067aa0ba902b7";

  /**
   * Bursts, one after the other, while the load runs: three, and more until one burst's own span
   * found room in the ring buffer (its goroutines overflow the state map) and a span end was kept
   * aside, for at most the load's time.
   */
  private static List<Sent> burstWhileTheLoadRuns(Daemon daemon, String address, long loadStarted) {
    HttpClient http = HttpClient.newHttpClient();
    List<Sent> sent = new ArrayList<>();
    MeterRegistry m = daemon.metrics();
    try {
      while (sent.size() < 3 || (counter(m, "braid.goroutines.unspanned") < BURST_GOROUTINES - 65_536L || counter(m, "braid.span.ends.kept") == 0)
          && System.nanoTime() - loadStarted < LOAD.minusSeconds(2).toNanos()) {
        String trace = HostChurnTest.traceId();
        String route = "/burst?n=" + BURST_GOROUTINES;
        long start = System.currentTimeMillis() * 1_000_000;
        HttpResponse<String> r = http.send(
            HttpRequest.newBuilder(URI.create(address + route)).timeout(Duration.ofSeconds(60)).header("traceparent", "00-" + trace + "-" + PARENT + "-01").build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).startsWith("burst " + BURST_GOROUTINES + " ");
        // Its goroutines exit once their value is sent, some after the answer: until they have,
        // they show the span they inherited (spec 3.7), as a sample of the request.
        sent.add(new Sent(trace, PARENT, route, start, (System.currentTimeMillis() + BURST_EXITS.toMillis()) * 1_000_000));
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return sent;
  }

  /** What braid holds once the load is over and two flushes have passed. */
  private static Map<String, Double> stateOnceIdle(Daemon daemon, long loadStarted) {
    try {
      Thread.sleep(Math.max(0, LOAD.plusSeconds(3).toMillis() - (System.nanoTime() - loadStarted) / 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Map<String, Double> state = new HashMap<>();
    for (String gauge : List.of("braid.spans.open", "braid.samples.waiting", "braid.links.pending")) {
      state.put(gauge, daemon.metrics().get(gauge).gauge().value());
    }
    return state;
  }

  /** A counter's value, whether braid counts it or reads it from the kernel. */
  private static long counter(MeterRegistry m, String name) {
    return (long) m.get(name).meter().measure().iterator().next().getValue();
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort(); // nothing listens once it is closed: the collector is down
    }
  }
}
