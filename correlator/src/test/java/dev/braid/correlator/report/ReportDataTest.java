package dev.braid.correlator.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.TraceContext;
import dev.braid.bpf.testing.Figures;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.ProcessInfo;
import dev.braid.correlator.ProfiledSample;
import dev.braid.correlator.SpanLink;
import dev.braid.correlator.otlp.JsonLinesFile;
import dev.braid.correlator.otlp.JsonOut;
import dev.braid.correlator.otlp.ProfilesEncoder;
import dev.braid.correlator.otlp.TraceFile;
import dev.braid.profiler.Line;
import dev.braid.profiler.Location;
import dev.braid.profiler.Mapping;
import dev.braid.tracer.SpanEvent;
import io.opentelemetry.api.trace.SpanKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's data from files written by braid's own writers (traces.jsonl, profiles.jsonl):
 * every figure against what was written, and a large run kept to a page of bounded size.
 */
class ReportDataTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ProcessInfo SHOP = new ProcessInfo(4242, "/srv/shop", "shop", "host-1");
  private static final Mapping TEXT = new Mapping(0x400000, 0x800000, 0, "/srv/shop", "b01d");
  private static final Location BURN = new Location(0x401010, TEXT,
      List.of(new Line("main.churn", "/src/shop/main.go", 90), new Line("main.priceCart", "/src/shop/main.go", 70)), Location.Kind.GO);
  private static final Location HANDLER = new Location(0x402020, TEXT, List.of(new Line("main.main.func1", "/src/shop/main.go", 33)), Location.Kind.GO);
  private static final Location SPIN = new Location(0x403030, TEXT, List.of(new Line("main.spin", "/src/shop/main.go", 12)), Location.Kind.GO);
  private static final Location KERNEL = new Location(0xffffffff81000000L, Mapping.KERNEL, List.of(new Line("do_syscall_64", "", 0)), Location.Kind.KERNEL);
  private static final long T0 = 1_800_000_000_000_000_000L;
  private static final int HZ = 100;

  private final SplittableRandom random = new SplittableRandom(11);
  private final HexFormat hex = HexFormat.of();

  private TraceContext context() {
    return new TraceContext(hex.toHexDigits(random.nextLong()) + hex.toHexDigits(random.nextLong()), hex.toHexDigits(random.nextLong() | 1));
  }

  private static CompletedSpan span(TraceContext ctx, String parent, SpanKind kind, String route, long start, long nanos, List<SpanLink> links) {
    return new CompletedSpan(SHOP, ctx, parent, 1, kind, "GET", route, route, "shop:8080", "1.1", "", 200, SpanEvent.EndReason.FINISHED,
        start, start + nanos, 7, links, 0);
  }

  private static ProfiledSample sample(Optional<TraceContext> ctx, long t, Location... stack) {
    return new ProfiledSample(SHOP, 7, t, ctx, Optional.empty(), List.of(stack));
  }

  private static JsonNode data(Path dir) throws Exception {
    JsonOut out = new JsonOut();
    ReportData.read(RunFiles.in(dir), pass -> {}).write(out);
    return JSON.readTree(out.toString());
  }

  @Test
  void aRequestsFiguresAreThoseOfItsSpansAndSamples(@TempDir Path dir) throws Exception {
    TraceContext server = context();
    TraceContext child = new TraceContext(server.traceId(), hex.toHexDigits(random.nextLong() | 1));
    TraceContext sender = context();
    List<CompletedSpan> spans = List.of(
        span(server, "", SpanKind.SERVER, "/checkout", T0, 50_000_000, List.of()),
        span(child, server.spanId(), SpanKind.CLIENT, "/price", T0 + 10_000_000, 30_000_000, List.of()),
        span(sender, "", SpanKind.SERVER, "/dispatch", T0, 1_000_000, List.of()));
    // a link from the checkout's span to the dispatch's, as braid makes it for a channel hand-off
    List<CompletedSpan> linked = new ArrayList<>(spans);
    linked.set(0, spans.get(0).withLinks(List.of(new SpanLink(sender, SpanLink.Side.RECEIVER, 0xc000010000L, 1, true, false)), 0));
    try (TraceFile traces = new TraceFile(dir.resolve("traces.jsonl"))) {
      traces.write(linked);
    }
    List<ProfiledSample> samples = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      samples.add(sample(Optional.of(server), T0 + i, BURN, HANDLER));
    }
    for (int i = 0; i < 6; i++) {
      samples.add(sample(Optional.of(child), T0 + 20 + i, KERNEL, BURN, HANDLER));
    }
    samples.add(sample(Optional.empty(), T0 + 40, SPIN));
    try (JsonLinesFile profiles = new JsonLinesFile(dir.resolve("profiles.jsonl"))) {
      profiles.write(new ProfilesEncoder(HZ).encode(samples, T0, T0 + 100_000_000));
    }

    JsonNode d = data(dir);
    assertThat(d.path("sampleCount").asLong()).isEqualTo(11);
    assertThat(d.path("samplesInSpans").asLong()).isEqualTo(10);
    assertThat(d.path("periodMs").asDouble()).isEqualTo(10.0);
    JsonNode checkout = route(d, "/checkout");
    assertThat(checkout.path("requests").asLong()).isEqualTo(1);
    assertThat(checkout.path("p50").asDouble()).isCloseTo(50.0, within(0.05));
    assertThat(checkout.path("samples").asLong()).as("its span's and its child's").isEqualTo(10);
    assertThat(checkout.path("cpuMsPerRequest").asDouble()).isEqualTo(100.0);

    JsonNode trace = trace(d, server.traceId());
    assertThat(trace.path("spans")).hasSize(2);
    JsonNode top = trace.path("spans").get(0);
    assertThat(top.path("self").asLong()).isEqualTo(4);
    assertThat(top.path("total").asLong()).isEqualTo(10);
    assertThat(top.path("links").get(0).path("span").asText()).isEqualTo(sender.spanId());
    assertThat(top.path("links").get(0).path("type").asText()).isEqualTo("go.channel");
    assertThat(top.path("links").get(0).path("name").asText()).isEqualTo("GET /dispatch (shop)");
    // With its child's samples: root (the span), then the stack root first, inlined frames after their caller.
    JsonNode handler = top.path("flameTotal").path("children").get(0);
    assertThat(handler.path("name").asText()).isEqualTo("main.main.func1");
    assertThat(handler.path("value").asLong()).isEqualTo(10);
    JsonNode priceCart = handler.path("children").get(0);
    assertThat(priceCart.path("name").asText()).isEqualTo("main.priceCart");
    assertThat(priceCart.path("children").get(0).path("name").asText()).isEqualTo("main.churn");
    assertThat(priceCart.path("children").get(0).path("inlined").asBoolean()).isTrue();
    assertThat(priceCart.path("children").get(0).path("children").get(0).path("kind").asText()).isEqualTo("kernel");
    assertThat(top.path("flameSelf").path("value").asLong()).isEqualTo(4);

    JsonNode process = d.path("processes").get(0);
    assertThat(process.path("samples").asLong()).isEqualTo(11);
    assertThat(process.path("outside").asLong()).isEqualTo(1);
  }

  /** A long run at full load: each route's 100 slowest traces, the rest counted; exact counts and percentiles within 0.1%. */
  @Test
  void aLargeRunGivesAPageOfBoundedSize(@TempDir Path dir) throws Exception {
    int perRoute = 20_000;
    List<String> routes = List.of("/api/cart", "/hello", "/checkout");
    long slowestCheckout = 0;
    try (TraceFile traces = new TraceFile(dir.resolve("traces.jsonl"));
        JsonLinesFile profiles = new JsonLinesFile(dir.resolve("profiles.jsonl"))) {
      List<CompletedSpan> batch = new ArrayList<>();
      List<ProfiledSample> samples = new ArrayList<>();
      for (int i = 0; i < perRoute; i++) {
        for (int r = 0; r < routes.size(); r++) {
          long nanos = (r + 1) * 1_000_000L + i; // route r: (r + 1) ms, and i ns more: the last are the slowest
          TraceContext ctx = context();
          batch.add(span(ctx, "", SpanKind.SERVER, routes.get(r), T0 + i * 10_000L, nanos, List.of()));
          if (r == 2) {
            slowestCheckout = Math.max(slowestCheckout, nanos);
            if (i % 10 == 0) {
              samples.add(sample(Optional.of(ctx), T0 + i, BURN, HANDLER));
            }
          }
        }
        if (batch.size() >= 3_000) {
          traces.write(batch);
          profiles.write(new ProfilesEncoder(HZ).encode(samples, T0, T0 + 1));
          batch.clear();
          samples.clear();
        }
      }
      traces.write(batch);
      profiles.write(new ProfilesEncoder(HZ).encode(samples, T0, T0 + 1));
    }

    JsonNode d = data(dir);
    assertThat(d.path("spanCount").asLong()).isEqualTo(3L * perRoute);
    assertThat(d.path("requests").asLong()).isEqualTo(3L * perRoute);
    assertThat(d.path("traces")).hasSize(3 * ReportData.TRACES_PER_ROUTE);
    for (String route : routes) {
      assertThat(route(d, route).path("requests").asLong()).isEqualTo(perRoute);
    }
    assertThat(route(d, "/checkout").path("p50").asDouble()).isCloseTo(3.010, within(0.004));
    assertThat(route(d, "/checkout").path("samples").asLong()).isEqualTo(perRoute / 10);
    assertThat(d.path("traces").get(0).path("ms").asDouble()).isCloseTo(slowestCheckout / 1e6, within(0.001));

    Path page = dir.resolve("report.html");
    long start = System.nanoTime();
    ReportPage.write(dir, page, step -> {});
    long files = Files.size(dir.resolve("traces.jsonl")) + Files.size(dir.resolve("profiles.jsonl"));
    Figures.record("MiB of files a second made into report.html (each read up to three times)",
        (files >> 20) * 1_000_000_000L / Math.max(1, System.nanoTime() - start), "reported");
    long bytes = Files.size(page);
    Figures.record("report.html of " + 3 * perRoute + " requests and " + (3 * perRoute / 30) + " samples (KiB), from " + Files.size(dir.resolve("traces.jsonl")) / 1024
        + " KiB of traces.jsonl", bytes / 1024, "<= 2048");
    assertThat(bytes).isLessThan(2L << 20);
    opensInABrowser(page);
  }

  /** With Debian's chromium at hand (./braid test installs it), how long the page takes to load and draw. */
  private static void opensInABrowser(Path page) throws Exception {
    Path chromium = Path.of("/usr/bin/chromium");
    if (!Files.isExecutable(chromium)) {
      dev.braid.bpf.testing.Kernel.skipOrFail("no headless browser: apt-get install chromium (./braid test installs it)");
    }
    long start = System.nanoTime();
    Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.toUri().toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String dom = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    Figures.record("seconds for headless Chromium to open and draw that page", (System.nanoTime() - start) / 1_000_000_000L, "reported");
    assertThat(dom).contains("60,000 spans (60,000 requests)").contains("class=\"frame\"");
  }

  private static JsonNode route(JsonNode d, String route) {
    for (JsonNode r : d.path("routes")) {
      if (r.path("route").asText().equals(route)) {
        return r;
      }
    }
    throw new AssertionError("no route " + route + " in " + d.path("routes"));
  }

  private static JsonNode trace(JsonNode d, String id) {
    for (JsonNode t : d.path("traces")) {
      if (t.path("id").asText().equals(id)) {
        return t;
      }
    }
    throw new AssertionError("no trace " + id);
  }
}
