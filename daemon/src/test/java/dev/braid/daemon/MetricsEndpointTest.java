package dev.braid.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.Wait;
import dev.braid.correlator.export.OtlpEndpoint;
import dev.braid.daemon.groundtruth.TracedRun;
import dev.braid.examples.Examples;
import dev.braid.examples.GoTools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code --metrics-addr} while braid traces a loaded service and exports to a collector that is
 * down: what it serves is read by Prometheus' own text parser (examples/promcheck).
 */
@Tag("kernel")
class MetricsEndpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theEndpointServesPrometheusTextWithWhatBraidDid() throws Exception {
    Kernel.requireBpf();
    String[] scraped = new String[1];
    TracedRun run;
    // A port bound but not listening: the "collector" there refuses every connection, and no other process can take the port meanwhile.
    try (Socket nobodyListens = new Socket()) {
      nobodyListens.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      run =
          TracedRun.run(
              List.of(TracedRun.Service.shop(Examples.binary("shop"), "-spinners", "1")),
              new TracedRun.Load("shop", "/checkout?ms=3", Duration.ofSeconds(4), 2),
              c ->
                  c.withMetricsAddress(Optional.of(new InetSocketAddress("127.0.0.1", 0)))
                      .withOtlp(OtlpEndpoint.configure(Optional.of("http://127.0.0.1:" + nobodyListens.getLocalPort()), Optional.of("grpc"), Map.of()))
                      .withFlushInterval(Duration.ofMillis(500)),
              // Scraped until it shows span events, samples and a failed export (the collector is down).
              daemon -> scraped[0] = scrapeUntil(daemon.metricsAddress().orElseThrow().getPort(), text -> counted(text, "braid_span_events_total")
                  && counted(text, "braid_samples_total") && counted(text, "braid_export_failures_total{signal=\"traces\"")));
    }
    JsonNode metrics = parse(scraped[0]);

    assertThat(value(metrics, "braid_span_events_total")).isPositive();
    assertThat(value(metrics, "braid_samples_total")).isPositive();
    assertThat(metrics.get("braid_samples_lost_total").get("type").asText()).isEqualTo("COUNTER");
    assertThat(metrics.get("braid_span_events_lost_total").get("type").asText()).isEqualTo("COUNTER");
    assertThat(metrics.get("braid_traces_ctx_entries").get("type").asText()).isEqualTo("GAUGE");
    assertThat(value(metrics, "braid_traces_ctx_refused_total")).as("the kernel took every update of traces_ctx_v1").isZero();
    assertThat(metrics.get("braid_spans_open").get("type").asText()).isEqualTo("GAUGE");
    assertThat(metrics.get("braid_samples_waiting").get("type").asText()).isEqualTo("GAUGE");
    assertThat(metrics.get("braid_links_total").get("type").asText()).isEqualTo("COUNTER");
    assertThat(metrics.get("braid_links_dropped_total").get("type").asText()).isEqualTo("COUNTER");
    assertThat(metrics.get("braid_links_pending").get("type").asText()).isEqualTo("GAUGE");
    assertThat(value(metrics, "braid_processes")).isEqualTo(1);
    // The collector is down: attempts fail and are counted, nothing has been sent.
    assertThat(sample(metrics, "braid_export_failures_total", Map.of("signal", "traces"))).isPositive();
    assertThat(sample(metrics, "braid_export_items_spans_total", Map.of("signal", "traces", "outcome", "sent"))).isZero();
    assertThat(metrics.get("braid_export_queued_requests").get("samples")).hasSize(2);
    // And the spans it made meanwhile were made all the same.
    assertThat(run.spans()).isNotEmpty();
  }

  /** Scrapes every 200 ms until {@code enough} holds of the text (at most a minute); the last text. */
  private static String scrapeUntil(int port, java.util.function.Predicate<String> enough) {
    String[] last = {""};
    Wait.until(Duration.ofMinutes(1), Duration.ofMillis(200), () -> enough.test(last[0] = scrape(port)));
    return last[0];
  }

  /** Whether a line of the text starts with {@code series} and has a value above 0. */
  private static boolean counted(String text, String series) {
    return text.lines().anyMatch(l -> l.startsWith(series) && !l.endsWith(" 0.0") && !l.endsWith(" 0"));
  }

  private static String scrape(int port) {
    try (HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
      return r.body();
    } catch (IOException e) {
      throw new AssertionError("scraping the metrics endpoint", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The metric families, as promcheck's parser reads them (it fails on anything malformed). */
  private static JsonNode parse(String text) throws Exception {
    Process p = new ProcessBuilder(GoTools.binary("promcheck").toString()).start();
    p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("promcheck: %s\n%s", err, text).isZero();
    return JSON.readTree(out);
  }

  private static double value(JsonNode metrics, String name) {
    assertThat(metrics.has(name)).as("metric %s in %s", name, metrics.fieldNames()).isTrue();
    return metrics.get(name).get("samples").get(0).get("value").asDouble();
  }

  private static double sample(JsonNode metrics, String name, Map<String, String> labels) {
    assertThat(metrics.has(name)).as("metric %s", name).isTrue();
    for (JsonNode s : metrics.get(name).get("samples")) {
      if (labels.entrySet().stream().allMatch(l -> l.getValue().equals(s.get("labels").path(l.getKey()).asText()))) {
        return s.get("value").asDouble();
      }
    }
    throw new AssertionError("no sample of " + name + " with " + labels + ": " + metrics.get(name));
  }
}
