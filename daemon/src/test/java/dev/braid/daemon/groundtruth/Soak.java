package dev.braid.daemon.groundtruth;

import dev.braid.bpf.testing.PinRoot;
import dev.braid.examples.Collector;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * The soak: {@code braid run} tracing examples/shop under steady load for a long time, exporting
 * over OTLP/gRPC to a collector that is stopped and started again every few minutes. Every 10 s it
 * samples braid's RSS, heap after a full GC, open files, lost span events and samples, and its
 * export queue; at the end it fits a line through each (after a warm-up fifth) and fails when one
 * grows: when even the low end of its slope's 95% interval is above what a day of uptime could
 * carry. {@code ./braid soak --duration 1h}; CI runs it for 3 minutes.
 */
public final class Soak {
  private static final Duration SAMPLE_EVERY = Duration.ofSeconds(10);
  private static final List<String> ROUTES = List.of("/checkout?ms=1", "/search?ms=1", "/dispatch?via=select", "/receive?via=select", "/hello");

  /** One sample of what braid holds and has lost, {@code seconds} into the soak. */
  record Sample(double seconds, long rssBytes, long heapBytes, long files, long spanEventsLost, long samplesLost, long exportQueued,
      long exportDropped, double cpuSeconds, long requests, boolean collectorUp) {}

  /**
   * A quantity that must not grow, how much growth an hour it tolerates (noise, caches filling),
   * and from what soak length it is judged (RSS climbs for minutes while the JIT compiles and the
   * heap settles: a short soak reports it only).
   */
  record Limit(String name, String unit, double perHour, Duration judgedFrom, ToDoubleFunction<Sample> value) {}

  /** A fitted growth: slope per hour with its 95% interval's low end; failed when that is above the limit. */
  record Growth(Limit limit, double perHour, double lowPerHour, double first, double last, boolean judged) {
    boolean grows() {
      return judged && lowPerHour > limit.perHour();
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%-18s %8.1f -> %8.1f %-7s slope %+9.2f/h (95%% low %+9.2f; limit %.0f)%s", limit.name(), first, last,
          limit.unit(), perHour, lowPerHour, limit.perHour(), !judged ? (limit.judgedFrom().isZero() ? "  (reported: expected under --overload)" : "  (reported: judged in soaks of " + limit.judgedFrom().toMinutes() + " min or more)")
              : grows() ? "  GROWS" : "");
    }
  }

  static final List<Limit> LIMITS = List.of(
      new Limit("RSS", "MiB", 16, Duration.ofMinutes(30), s -> s.rssBytes() / 1048576.0),
      new Limit("heap after GC", "MiB", 8, Duration.ZERO, s -> s.heapBytes() / 1048576.0),
      new Limit("open files", "files", 30, Duration.ZERO, s -> s.files()),
      new Limit("span events lost", "events", 0, Duration.ZERO, s -> s.spanEventsLost()),
      new Limit("samples lost", "samples", 0, Duration.ZERO, s -> s.samplesLost()));

  /** What a soak saw. */
  record Result(List<Sample> samples, List<Growth> growths, long requests, long failedRequests, int collectorRestarts) {
    boolean passed() {
      return growths.stream().noneMatch(Growth::grows);
    }
  }

  private Soak() {}

  public static void main(String[] args) throws Exception {
    Duration duration = Duration.ofHours(1);
    int rate = 200;
    boolean overload = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--duration" -> duration = Duration.parse("PT" + args[++i].toUpperCase(Locale.ROOT));
        case "--rate" -> rate = Integer.parseInt(args[++i]);
        case "--overload" -> overload = true;
        default -> {
          System.err.println("usage: ./braid soak [--duration 1h] [--rate 200] [--overload]   (requests per second to examples/shop;"
              + " --overload: a burst of 100,000 goroutines every 10 s and a 256K span buffer, losses expected, memory judged)");
          System.exit(2);
        }
      }
    }
    Result r = run(duration, rate, overload, Path.of("target", "soak"), System.err);
    System.exit(r.passed() ? 0 : 1);
  }

  /** Runs a soak of {@code duration} at {@code rate} requests per second, keeping braid's files and soak.tsv in {@code dir}. */
  static Result run(Duration duration, int rate, Path dir, PrintStream progress) throws Exception {
    return run(duration, rate, false, dir, progress);
  }

  /**
   * As {@link #run(Duration, int, Path, PrintStream)}; with {@code overload}, braid's span ring
   * buffer is 256K and shop fans a request out to 100,000 goroutines every 10 s: events are lost
   * (counted, not judged), and what braid holds must stay flat all the same.
   */
  static Result run(Duration duration, int rate, boolean overload, Path dir, PrintStream progress) throws Exception {
    Files.createDirectories(dir);
    Duration restartEvery = duration.compareTo(Duration.ofMinutes(15)) >= 0 ? Duration.ofMinutes(5) : duration.dividedBy(3);
    List<Sample> samples = new ArrayList<>();
    AtomicLong requests = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    int restarts = 0;
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
    try (PinRoot pins = PinRoot.create();
        Collector collector = Collector.start();
        ExampleService shop = ExampleService.start(Examples.binary("shop"), "-addr", "127.0.0.1:0");
        BraidProcess braid = BraidProcess.run(dir.resolve("out"), pins.path(), List.of("--exe", Examples.binary("shop").toString(), "--no-files",
            "--otlp-endpoint", collector.grpcEndpoint(), "--otlp-protocol", "grpc", "--span-buffer", overload ? "256K" : "16M"))) {
      progress.printf("braid soak: %s at %d requests/s to shop (pid %d), braid pid %d exporting to a collector restarted every %s; a sample every %d s%n",
          duration, rate, shop.pid(), braid.pid(), restartEvery, SAMPLE_EVERY.toSeconds());
      AtomicLong next = new AtomicLong();
      load.scheduleAtFixedRate(() -> {
        String route = ROUTES.get((int) (next.getAndIncrement() % ROUTES.size()));
        http.sendAsync(HttpRequest.newBuilder(URI.create(shop.url() + route)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding())
            .whenComplete((response, error) -> (error == null && response.statusCode() == 200 ? requests : failed).incrementAndGet());
      }, 0, 1_000_000 / rate, TimeUnit.MICROSECONDS);
      long start = System.nanoTime();
      long nextRestart = start + restartEvery.toNanos();
      boolean up = true;
      while (System.nanoTime() - start < duration.toNanos()) {
        Thread.sleep(SAMPLE_EVERY.toMillis());
        long now = System.nanoTime();
        if (up && now >= nextRestart) {
          collector.stop(); // down for a third of the period: braid queues, retries, drops what does not fit, and says so
          up = false;
          nextRestart = now + restartEvery.toNanos() / 3;
        } else if (!up && now >= nextRestart) {
          collector.startAgain();
          restarts++;
          up = true;
          nextRestart = now + restartEvery.toNanos();
        }
        if (overload) {
          http.sendAsync(HttpRequest.newBuilder(URI.create(shop.url() + "/burst?n=100000")).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.discarding())
              .whenComplete((response, error) -> (error == null && response.statusCode() == 200 ? requests : failed).incrementAndGet());
        }
        Sample s = sample(braid, (now - start) / 1e9, requests.get(), up);
        samples.add(s);
        progress.printf(Locale.ROOT, "braid soak: %5.0f s  RSS %4d MiB  heap %3d MiB  files %4d  lost %d/%d  export queue %d dropped %d  CPU %.1f s  requests %d%s%n",
            s.seconds(), s.rssBytes() >> 20, s.heapBytes() >> 20, s.files(), s.spanEventsLost(), s.samplesLost(), s.exportQueued(), s.exportDropped(),
            s.cpuSeconds(), s.requests(), up ? "" : "  (collector down)");
      }
      load.shutdownNow();
      if (!up) {
        collector.startAgain();
      }
    } finally {
      load.shutdownNow();
    }
    // Overloaded on purpose, braid loses events: counted and shown, not judged.
    List<Growth> growths = LIMITS.stream().map(l -> fit(l, samples, duration.compareTo(l.judgedFrom()) >= 0 && !(overload && l.name().endsWith("lost")))).toList();
    writeTsv(dir.resolve("soak.tsv"), samples);
    Result result = new Result(samples, growths, requests.get(), failed.get(), restarts);
    growths.forEach(g -> progress.println("braid soak: " + g));
    progress.printf("braid soak: %d requests answered, %d failed; the collector was restarted %d times; %s (samples in %s)%n", result.requests(),
        result.failedRequests(), restarts, result.passed() ? "nothing grew" : "GROWTH", dir.resolve("soak.tsv"));
    return result;
  }

  private static Sample sample(BraidProcess braid, double seconds, long requests, boolean up) throws Exception {
    BraidProcess.Footprint f = braid.footprint();
    return new Sample(seconds, f.rssBytes(), f.heapBytes(), f.files(), braid.metric("braid_span_events_lost_total"),
        braid.metric("braid_samples_lost_total"), braid.metric("braid_export_queued_requests"),
        braid.metric("braid_export_items_spans_total", "outcome=\"dropped\"") + braid.metric("braid_export_items_samples_total", "outcome=\"dropped\""),
        braid.cpuSeconds(), requests, up);
  }

  /** Least squares through the samples after the first fifth (JIT, heap sizing, caches filling). */
  static Growth fit(Limit limit, List<Sample> samples, boolean judged) {
    List<Sample> kept = samples.subList(samples.size() / 5, samples.size());
    int n = kept.size();
    double mx = kept.stream().mapToDouble(Sample::seconds).average().orElse(0);
    double my = kept.stream().mapToDouble(limit.value()).average().orElse(0);
    double sxx = 0;
    double sxy = 0;
    for (Sample s : kept) {
      sxx += (s.seconds() - mx) * (s.seconds() - mx);
      sxy += (s.seconds() - mx) * (limit.value().applyAsDouble(s) - my);
    }
    double slope = sxx == 0 ? 0 : sxy / sxx;
    double residuals = 0;
    for (Sample s : kept) {
      double e = limit.value().applyAsDouble(s) - (my + slope * (s.seconds() - mx));
      residuals += e * e;
    }
    double se = n > 2 && sxx > 0 ? Math.sqrt(residuals / (n - 2) / sxx) : 0;
    double first = samples.isEmpty() ? 0 : limit.value().applyAsDouble(samples.getFirst());
    double last = samples.isEmpty() ? 0 : limit.value().applyAsDouble(samples.getLast());
    return new Growth(limit, slope * 3600, (slope - 2 * se) * 3600, first, last, judged);
  }

  private static void writeTsv(Path file, List<Sample> samples) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add("seconds\trss_bytes\theap_after_gc_bytes\topen_files\tspan_events_lost\tsamples_lost\texport_queued\texport_dropped\tcpu_seconds\trequests\tcollector_up");
    for (Sample s : samples) {
      lines.add(String.format(Locale.ROOT, "%.0f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%d\t%b", s.seconds(), s.rssBytes(), s.heapBytes(), s.files(),
          s.spanEventsLost(), s.samplesLost(), s.exportQueued(), s.exportDropped(), s.cpuSeconds(), s.requests(), s.collectorUp()));
    }
    Files.write(file, lines);
  }
}
