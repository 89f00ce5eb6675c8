package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.correlator.report.ReportPage;
import dev.braid.examples.Examples;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * report.html as a person sees it: opened in headless Chromium (Debian's package), its rendered
 * page read back and checked against the run's ground truth, and screenshots taken of the trace
 * list, a waterfall and a span's flame graph (target/report-screenshots; README's is one of them).
 */
@Tag("kernel")
class ReportTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path SCREENSHOTS = Path.of("target", "report-screenshots");
  private static final Pattern SAMPLES_IN_TITLE = Pattern.compile("\\(([0-9.]+)%, (\\d+) samples\\)");
  private static TracedRun run;
  private static Path report;
  private static Path chromium;

  @BeforeAll
  static void aRunAndItsReport() throws IOException {
    Kernel.requireBpf();
    chromium = Path.of("/usr/bin/chromium");
    if (!Files.isExecutable(chromium)) {
      Kernel.skipOrFail("no headless browser: apt-get install chromium (./braid test installs it)");
    }
    TracedRun.Service shop = TracedRun.Service.shop(Examples.binary("shop"));
    TracedRun.Load load = new TracedRun.Load("shop", "/checkout?ms=40,/dispatch?via=buffered,/receive?via=buffered", Duration.ofSeconds(4), 4, "X-Handed-From")
        .until(Goal.handOffs(20).and(Goal.samplesIn("main.priceCart", 200)));
    run = TracedRun.run(List.of(shop), load, c -> c.withSampleHz(499));
    report = run.outputDir().resolve("report.html");
    ReportPage.write(run.outputDir(), report, step -> {});
    Files.createDirectories(SCREENSHOTS);
  }

  /** The page after its scripts ran, as Chromium holds it; {@code state} is the URL's fragment. */
  private static Document open(String state) throws Exception {
    Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000", "--dump-dom",
        report.toUri() + "#" + state).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("chromium exits").isTrue();
    return Jsoup.parse(dom);
  }

  private static Path screenshot(String name, String state) throws Exception {
    Path png = SCREENSHOTS.resolve(name + ".png").toAbsolutePath();
    Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,900",
        "--virtual-time-budget=10000", "--screenshot=" + png, report.toUri() + "#" + state).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("chromium exits").isTrue();
    assertThat(png).isNotEmptyFile();
    return png;
  }

  /** The data the page embeds. */
  private static JsonNode pageData() throws IOException {
    return JSON.readTree(Jsoup.parse(report.toFile()).getElementById("data").data().replace("<\\/", "</"));
  }

  /** From the run's files, not from the report: samples per span id, and each trace's server span. */
  private record Truth(long samples, Map<String, Long> samplesBySpan, Map<String, String> serverSpanOfTrace) {
    static Truth of(Path dir) throws IOException {
      long samples = 0;
      Map<String, Long> bySpan = new HashMap<>();
      for (String line : Files.readAllLines(dir.resolve("profiles.jsonl"))) {
        JsonNode request = JSON.readTree(line);
        JsonNode links = request.path("dictionary").path("linkTable");
        for (JsonNode sample : request.findValues("samples")) {
          for (JsonNode s : sample) {
            long n = 0;
            for (JsonNode v : s.path("values")) {
              n += v.asLong();
            }
            samples += n;
            String span = links.path(s.path("linkIndex").asInt(0)).path("spanId").asText("");
            if (s.path("linkIndex").asInt(0) > 0) {
              bySpan.merge(span, n, Long::sum);
            }
          }
        }
      }
      Map<String, String> server = new HashMap<>();
      for (String line : Files.readAllLines(dir.resolve("traces.jsonl"))) {
        for (JsonNode span : JSON.readTree(line).findValues("spans")) {
          for (JsonNode s : span) {
            if (s.path("kind").asInt() == 2) {
              server.put(s.path("traceId").asText(), s.path("spanId").asText());
            }
          }
        }
      }
      return new Truth(samples, bySpan, server);
    }
  }

  @Test
  void theBurningRoutesSpanShowsItsBurnFunctionAndTheSampleCountsOfTheFiles() throws Exception {
    Truth truth = Truth.of(run.outputDir());
    JsonNode data = pageData();
    // Every span the page lists has the samples profiles.jsonl links to it (no span has children here).
    for (JsonNode t : data.path("traces")) {
      for (JsonNode sp : t.path("spans")) {
        assertThat(sp.path("self").asLong()).as("samples of span %s", sp.path("id").asText())
            .isEqualTo(truth.samplesBySpan().getOrDefault(sp.path("id").asText(), 0L)).isEqualTo(sp.path("total").asLong());
      }
    }
    // The /checkout request (ground truth: the load generator's record) whose span holds the most
    // samples, among the traces the report keeps (each route's slowest).
    List<String> kept = data.path("traces").findValuesAsText("id");
    String trace = null;
    long most = -1;
    for (JsonNode r : run.sent()) {
      String span = truth.serverSpanOfTrace().get(r.path("trace_id").asText());
      if (r.path("route").asText().equals("/checkout") && span != null && kept.contains(r.path("trace_id").asText())
          && truth.samplesBySpan().getOrDefault(span, 0L) > most) {
        trace = r.path("trace_id").asText();
        most = truth.samplesBySpan().get(span);
      }
    }
    assertThat(trace).as("a /checkout request with samples").isNotNull();
    String span = truth.serverSpanOfTrace().get(trace);
    Figures.atLeast("samples in the CPU-heaviest /checkout span", most, 8);

    Document page = open("trace=" + trace + "&span=" + span + "&mode=total");
    assertThat(page.getElementById("summary").text()).contains(String.format("%,d CPU samples", truth.samples()));
    assertThat(page.select(".span-row[data-span=\"" + span + "\"] .samples").attr("data-total")).isEqualTo(Long.toString(most));
    assertThat(page.getElementById("span-note").text()).contains(most + " samples");

    // The flame graph d3-flame-graph drew: the burn function holds (nearly) all of the span's samples.
    Map<String, Long> frames = new HashMap<>();
    for (Element g : page.select("#span-flame g.frame")) {
      Matcher m = SAMPLES_IN_TITLE.matcher(g.select("title").text());
      if (m.find()) {
        frames.merge(g.attr("name"), Long.parseLong(m.group(2)), Long::max);
      }
    }
    assertThat(frames).as("frames drawn").containsKey("main.priceCart");
    Figures.atLeast("of the span's samples, in main.priceCart's frame (%)", 100 * frames.get("main.priceCart") / most, 80);
    // Below the handler, no frame of the application is wider: the widest is where the CPU went.
    long widestBelowHandler = frames.entrySet().stream().filter(e -> e.getKey().startsWith("main.") && !e.getKey().startsWith("main.main"))
        .mapToLong(Map.Entry::getValue).max().orElse(0);
    assertThat(frames.get("main.priceCart")).isEqualTo(widestBelowHandler);
    assertThat(page.select("#hot tbody tr").first().text()).as("the function with the most own samples").containsAnyOf("main.priceCart", "main.churn");

    screenshot("trace-list", "view=traces");
    screenshot("span-flame-graph", "trace=" + trace + "&span=" + span + "&mode=total&view=span");
  }

  @Test
  void aChannelHandOffShowsALinkBetweenItsTwoSpans() throws Exception {
    Truth truth = Truth.of(run.outputDir());
    List<String[]> handOffs = new ArrayList<>(); // receive trace, dispatch trace (the receiver's reply names it)
    for (JsonNode r : run.sent()) {
      String from = r.path("reply").asText("none");
      if (r.path("route").asText().equals("/receive") && !from.equals("none") && truth.serverSpanOfTrace().containsKey(from)) {
        handOffs.add(new String[] {r.path("trace_id").asText(), from});
      }
    }
    assertThat(handOffs).as("hand-offs in the ground truth").isNotEmpty();
    // One whose receive is among the traces the report keeps (each route's slowest).
    List<String> kept = pageData().path("traces").findValuesAsText("id");
    String[] h = handOffs.stream().filter(x -> kept.contains(x[0])).findFirst().orElseThrow();
    Document page = open("trace=" + h[0]);
    Element link = page.selectFirst("#waterfall .link[data-to-trace=\"" + h[1] + "\"]");
    assertThat(link).as("a link from the receive's span to the dispatch that handed it the value").isNotNull();
    assertThat(link.attr("data-from")).isEqualTo(truth.serverSpanOfTrace().get(h[0]));
    assertThat(link.attr("data-to")).isEqualTo(truth.serverSpanOfTrace().get(h[1]));
    assertThat(link.text()).contains("go.channel").contains("GET /dispatch");
    screenshot("waterfall", "trace=" + h[0] + "&view=trace");
  }
}
