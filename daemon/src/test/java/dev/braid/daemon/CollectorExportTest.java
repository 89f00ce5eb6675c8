package dev.braid.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.Wait;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProfiledSample;
import dev.braid.correlator.SpanLink;
import dev.braid.correlator.export.OtlpEndpoint;
import dev.braid.correlator.report.ReportPage;
import dev.braid.daemon.Daemon;
import dev.braid.daemon.groundtruth.Attribution;
import dev.braid.daemon.groundtruth.Goal;
import dev.braid.daemon.groundtruth.TracedRun;
import dev.braid.examples.Collector;
import dev.braid.examples.Examples;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Spans and profiles exported to a real OpenTelemetry Collector (examples/collector), read back
 * from what its file exporter wrote: nothing rejected, nothing lost, and the profiles' links name
 * the exported spans.
 */
@Tag("kernel")
class CollectorExportTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  private static TracedRun shopUnderLoad(Optional<OtlpEndpoint> endpoint, Duration flush, TracedRun.Load load, Consumer<Daemon> duringLoad) {
    TracedRun.Service shop = TracedRun.Service.shop(Examples.binary("shop"), "-spinners", "1");
    return TracedRun.run(List.of(shop), load, c -> c.withOtlp(endpoint).withFlushInterval(flush), duringLoad);
  }

  /** Each client dispatches a value over a buffered channel and receives one: spans with links. */
  private static TracedRun.Load load(Duration duration) {
    return new TracedRun.Load("shop", "/checkout?ms=3,/dispatch?via=buffered,/search?ms=3,/receive?via=buffered", duration, 2)
        .until(Goal.handOffs(10));
  }

  private static Optional<OtlpEndpoint> endpoint(Collector collector, String protocol) {
    String url = protocol.equals("grpc") ? collector.grpcEndpoint() : collector.httpEndpoint();
    return OtlpEndpoint.configure(Optional.of(url), Optional.of(protocol), Map.of());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"grpc", "http/protobuf"})
  void spansAndProfilesArriveWhole(String protocol) throws IOException {
    try (Collector collector = Collector.start()) {
      TracedRun run = shopUnderLoad(endpoint(collector, protocol), Duration.ofSeconds(2), load(Duration.ofSeconds(4)), daemon -> {});
      Attribution.everyRequestIsOneServerSpanOfItsTrace(run);

      Set<String> exported = run.spans().stream().map(CollectorExportTest::ids).collect(Collectors.toSet());
      List<String> received = spanIds(collector.lines(collector.tracesFile()));
      assertThat(received).doesNotHaveDuplicates();
      assertThat(Set.copyOf(received)).isEqualTo(exported);
      assertThat(spanLinks(collector.lines(collector.tracesFile()))).as("span links the collector received").isEqualTo(spanLinks(run));

      Profiles profiles = profiles(collector.lines(collector.profilesFile()));
      assertThat(profiles.samples()).as("samples the collector received").isEqualTo(run.samples().size());
      Set<String> sampledSpans =
          run.samples().stream().filter(s -> s.context().isPresent()).map(s -> s.context().get().traceId() + "/" + s.context().get().spanId()).collect(Collectors.toSet());
      assertThat(sampledSpans).isNotEmpty();
      assertThat(profiles.links()).as("links of the received samples").isEqualTo(sampledSpans);
      assertThat(exported).as("every linked span was exported").containsAll(profiles.links());
      assertThat(profiles.resources()).contains("shop/" + run.pid("shop"));
      // report.html from what the collector's file exporter stored, as from braid's own files
      ReportPage.Summary report = ReportPage.write(collector.tracesFile().getParent(), collector.tracesFile().resolveSibling("report.html"), step -> {});
      assertThat(report.spans()).as("spans in the report of the collector's files").isEqualTo(run.spans().size());
      assertThat(report.samples()).as("samples in the report of the collector's files").isEqualTo(run.samples().size());

      MeterRegistry m = run.metrics();
      assertThat(items(m, "traces", "sent")).isEqualTo(run.spans().size());
      assertThat(items(m, "profiles", "sent")).isEqualTo(run.samples().size());
      for (String signal : List.of("traces", "profiles")) {
        assertThat(items(m, signal, "dropped")).isZero();
        assertThat(items(m, signal, "rejected")).isZero();
      }
    }
  }

  /** The files braid writes are OTLP/JSON a collector takes, line by line. */
  @Test
  void braidsJsonLinesAreTakenByTheCollector() throws Exception {
    try (Collector collector = Collector.start()) {
      TracedRun run = shopUnderLoad(Optional.empty(), Duration.ofSeconds(1), load(Duration.ofSeconds(3)), daemon -> {});
      HttpClient http = HttpClient.newHttpClient();
      for (var file : List.of(List.of("traces.jsonl", "/v1/traces"), List.of("profiles.jsonl", "/v1development/profiles"))) {
        List<String> lines = Files.readAllLines(run.outputDir().resolve(file.get(0)));
        assertThat(lines).as(file.get(0)).isNotEmpty();
        for (String line : lines) {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(URI.create(collector.httpEndpoint() + file.get(1)))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofString(line))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).as("%s: %s", file.get(0), r.body()).isEqualTo(200);
          assertThat(r.body()).doesNotContain("rejected");
        }
      }
      // What the collector made of the JSON is what braid meant.
      Set<String> exported = run.spans().stream().map(CollectorExportTest::ids).collect(Collectors.toSet());
      assertThat(Set.copyOf(spanIds(collector.lines(collector.tracesFile())))).isEqualTo(exported);
      assertThat(spanLinks(collector.lines(collector.tracesFile()))).isEqualTo(spanLinks(run));
      assertThat(profiles(collector.lines(collector.profilesFile())).samples()).isEqualTo(run.samples().size());
    }
  }

  /**
   * The collector stops mid-run and comes back: braid keeps running, retries, drops what its
   * small queue cannot hold and counts it, and what it makes after the restart arrives. Each step
   * waits for what braid's metrics say happened, not for a time.
   */
  @Test
  void aCollectorThatGoesAwayAndComesBackLosesNothingSilently() throws IOException {
    try (Collector collector = Collector.start()) {
      AtomicLong retriedAt = new AtomicLong(Long.MAX_VALUE); // epoch ns: braid's first export the restarted collector took
      AtomicLong droppedAtRetry = new AtomicLong();
      Optional<OtlpEndpoint> endpoint = endpoint(collector, "grpc").map(e -> e.withQueueRequests(2));
      Goal afterTheRetry = Goal.onBatches("20 spans started after the retry", batches -> batches.stream().flatMap(b -> b.spans().stream())
          .filter(s -> s.startEpochNanos() > retriedAt.get()).limit(20).count() >= 20);
      TracedRun run =
          shopUnderLoad(endpoint, Duration.ofMillis(300), load(Duration.ZERO).until(afterTheRetry), daemon -> {
            MeterRegistry m = daemon.metrics();
            waitFor("the collector takes braid's first spans", () -> items(m, "traces", "sent") > 0);
            collector.stop();
            waitFor("spans dropped while the collector is away", () -> items(m, "traces", "dropped") > 0);
            collector.startAgain();
            double sentBefore = items(m, "traces", "sent");
            waitFor("braid's retry to reach the restarted collector, and its queue to empty",
                () -> items(m, "traces", "sent") > sentBefore && m.get("braid.export.queued.requests").tag("signal", "traces").gauge().value() == 0);
            droppedAtRetry.set((long) items(m, "traces", "dropped"));
            retriedAt.set(System.currentTimeMillis() * 1_000_000L);
          });
      Set<String> received = Set.copyOf(spanIds(collector.lines(collector.tracesFile())));
      List<CompletedSpan> afterRestart = run.spans().stream().filter(s -> s.startEpochNanos() > retriedAt.get()).toList();
      Figures.atLeast("spans that started after braid's retry reached the collector", afterRestart.size(), 20);
      // What the restarted collector was sent arrived; on a machine slow enough to fill the 2-request
      // queue again, what braid dropped since (and counted) is all that may be missing.
      long droppedSince = (long) items(run.metrics(), "traces", "dropped") - droppedAtRetry.get();
      long missing = afterRestart.stream().map(CollectorExportTest::ids).filter(id -> !received.contains(id)).count();
      Figures.atMost("spans made after the retry that did not arrive", missing, droppedSince);

      MeterRegistry m = run.metrics();
      assertThat(m.get("braid.export.failures").tag("signal", "traces").counter().count()).isPositive();
      assertThat(items(m, "traces", "dropped")).as("spans dropped while the collector was away").isPositive();
      // Every span is accounted for: sent, or dropped and counted.
      assertThat(items(m, "traces", "sent") + items(m, "traces", "dropped") + items(m, "traces", "rejected")).isEqualTo(run.spans().size());
      assertThat(items(m, "profiles", "sent") + items(m, "profiles", "dropped") + items(m, "profiles", "rejected")).isEqualTo(run.samples().size());
      assertThat((long) items(m, "traces", "sent")).isEqualTo(received.size());
      assertThat(m.get("braid.pipeline.errors").counter().count()).isZero();
    }
  }

  private static void waitFor(String what, BooleanSupplier happened) {
    assertThat(Wait.until(Duration.ofSeconds(30), Duration.ofMillis(20), happened)).as("%s, within 30 s", what).isTrue();
  }

  private static double items(MeterRegistry m, String signal, String outcome) {
    Counter c = m.find("braid.export.items").tag("signal", signal).tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  private static String ids(CompletedSpan s) {
    return s.context().traceId() + "/" + s.context().spanId();
  }

  /** "span > linked span, side" of every channel link braid exported; there are some. */
  private static Set<String> spanLinks(TracedRun run) {
    Set<String> links = new HashSet<>();
    for (CompletedSpan s : run.spans()) {
      s.links().forEach(l -> links.add(ids(s) + " > " + l.to().traceId() + "/" + l.to().spanId() + ", " + l.side().attributeValue()));
    }
    assertThat(links).as("links braid exported").hasSizeGreaterThan(10);
    return links;
  }

  /** The same of every span link in the collector's traces.jsonl. */
  private static Set<String> spanLinks(List<String> lines) throws IOException {
    Set<String> links = new HashSet<>();
    for (String line : lines) {
      for (JsonNode rs : JSON.readTree(line).path("resourceSpans")) {
        for (JsonNode ss : rs.path("scopeSpans")) {
          for (JsonNode span : ss.path("spans")) {
            for (JsonNode l : span.path("links")) {
              String side = "";
              for (JsonNode a : l.path("attributes")) {
                if (a.get("key").asText().equals(SpanLink.SIDE.getKey())) {
                  side = a.path("value").path("stringValue").asText();
                }
              }
              links.add(span.get("traceId").asText() + "/" + span.get("spanId").asText() + " > " + l.get("traceId").asText() + "/"
                  + l.get("spanId").asText() + ", " + side);
            }
          }
        }
      }
    }
    return links;
  }

  /** trace/span of every span in the collector's traces.jsonl. */
  private static List<String> spanIds(List<String> lines) throws IOException {
    List<String> ids = new ArrayList<>();
    for (String line : lines) {
      for (JsonNode rs : JSON.readTree(line).path("resourceSpans")) {
        for (JsonNode ss : rs.path("scopeSpans")) {
          for (JsonNode span : ss.path("spans")) {
            ids.add(span.get("traceId").asText() + "/" + span.get("spanId").asText());
          }
        }
      }
    }
    return ids;
  }

  record Profiles(long samples, Set<String> links, Set<String> resources) {}

  /** Counts observations (timestamps), resolves links through each line's dictionary. */
  private static Profiles profiles(List<String> lines) throws IOException {
    long samples = 0;
    Set<String> links = new HashSet<>();
    Set<String> resources = new HashSet<>();
    for (String line : lines) {
      JsonNode request = JSON.readTree(line);
      JsonNode dictionary = request.get("dictionary");
      JsonNode strings = dictionary.get("stringTable");
      for (JsonNode rp : request.path("resourceProfiles")) {
        String service = "";
        String pid = "";
        for (JsonNode a : rp.path("resource").path("attributes")) {
          // The file exporter may move attribute keys and string values into the string table.
          String key = a.has("key") ? a.get("key").asText() : strings.get(a.path("keyStrindex").asInt()).asText();
          JsonNode v = a.get("value");
          String value = v.has("stringValue") ? v.get("stringValue").asText()
              : v.has("stringValueStrindex") ? strings.get(v.get("stringValueStrindex").asInt()).asText() : v.path("intValue").asText();
          service = key.equals("service.name") ? value : service;
          pid = key.equals("process.pid") ? value : pid;
        }
        resources.add(service + "/" + pid);
        for (JsonNode sp : rp.path("scopeProfiles")) {
          for (JsonNode p : sp.path("profiles")) {
            for (JsonNode s : p.path("samples")) {
              samples += s.path("timestampsUnixNano").size();
              int link = s.path("linkIndex").asInt(0);
              if (link != 0) {
                JsonNode l = dictionary.get("linkTable").get(link);
                links.add(l.get("traceId").asText() + "/" + l.get("spanId").asText());
              }
            }
          }
        }
      }
    }
    return new Profiles(samples, links, resources);
  }
}
