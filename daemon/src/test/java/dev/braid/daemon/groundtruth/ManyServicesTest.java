package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.TraceContext;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.Kernel;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.bpf.testing.Wait;
import dev.braid.examples.GoBuild;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many Go services on one host, already running when {@code braid run} starts tracing the whole
 * host: half as many binaries as services (each a service of its own, two replicas each), of
 * every Go release, with DWARF and stripped. Measured: the time until braid is ready (every probe
 * attached), its RSS, heap and CPU under load, and the time it takes to stop. Checked against
 * ground truth: every request's span names its trace, process and service, and every entry read
 * from traces_ctx_v1 while the load runs is a request in flight in that process. A harness run by
 * hand ({@code -Dbraid.services=50}: a stop detaches ~0.1 s a probe), its figures in README.
 */
@Tag("kernel")
@EnabledIfSystemProperty(named = "braid.services", matches = "\\d+")
class ManyServicesTest {
  private static final int SERVICES = Integer.getInteger("braid.services", 0);
  private static final Duration LOAD = Duration.ofSeconds(Integer.getInteger("braid.services.load.seconds", 30));
  private static final int CLIENTS = 8;

  /** A service process: where it listens, its pid and its service name. */
  record Service(String address, int pid, String name) {}

  /** A request: its trace, the process it went to, and when the client sent it and had the answer. */
  record Sent(String traceId, Service service, long sentNanos, long answeredNanos) {}

  /** An entry of traces_ctx_v1 as the poller read it: the process, the trace, and when the read began. */
  record Seen(int pid, String traceId, long readNanos) {}

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void needsBpf() {
    Kernel.requireBpf();
  }

  @Test
  void manyServicesAreTracedAtOnceAndExactly(@TempDir Path dir) throws Exception {
    List<Process> processes = new ArrayList<>();
    Path out = Path.of("target", "groundtruth", "many-services", "out");
    Files.createDirectories(out);
    try (PinRoot pins = PinRoot.create()) {
      List<Service> services = startServices(dir, processes);
      long starting = System.nanoTime();
      try (BraidProcess braid = BraidProcess.run(out, pins.path(), List.of())) {
        long readyMillis = (System.nanoTime() - starting) / 1_000_000;
        for (Service s : services) {
          Wait.until(Duration.ofSeconds(10), Duration.ofMillis(20), () -> braid.service(s.pid()).isPresent());
          assertThat(braid.service(s.pid())).as("pid %d traced", s.pid()).contains(s.name());
        }
        BraidProcess.Footprint attached = braid.footprint();
        Figures.record("services traced at once", services.size(), (services.size() / 2) + " binaries, 2 replicas each, Go " + GoBuilds.covered().getFirst() + " to " + GoBuilds.covered().getLast());
        Figures.record("ms from braid's start until ready, every probe attached", readyMillis, attached.probes() + " probes");
        record("once attached", attached);

        List<Sent> sent = new CopyOnWriteArrayList<>();
        List<Seen> seen = new CopyOnWriteArrayList<>();
        AtomicBoolean loading = new AtomicBoolean(true);
        Thread poller = Thread.ofPlatform().start(() -> pollEntries(braid, loading, seen));
        double cpuBefore = braid.cpuSeconds();
        long loadStart = System.nanoTime();
        load(services, sent);
        double cpu = braid.cpuSeconds() - cpuBefore;
        double seconds = (System.nanoTime() - loadStart) / 1e9;
        loading.set(false);
        poller.join();
        Thread.sleep(2_500); // two flushes: every span written
        BraidProcess.Footprint loaded = braid.footprint();
        Figures.record("requests over " + Math.round(seconds) + " s, round robin", sent.size(), Math.round(sent.size() / seconds) + " /s from " + CLIENTS + " clients");
        Figures.record("% of one core braid used under that load", Math.round(100 * cpu / seconds), "");
        record("after the load", loaded);

        long stopping = System.nanoTime();
        braid.stop();
        Figures.record("s to stop (detaching every probe)", (System.nanoTime() - stopping) / 1_000_000_000L, "");

        Map<String, HostChurnTest.TraceFacts> spans = HostChurnTest.TraceFacts.read(out.resolve("traces.jsonl"));
        Map<String, Sent> byTrace = new ConcurrentHashMap<>();
        for (Sent s : sent) {
          byTrace.put(s.traceId(), s);
          assertThat(spans.get(s.traceId())).as("the span of trace %s", s.traceId()).isEqualTo(new HostChurnTest.TraceFacts(s.service().pid(), s.service().name()));
        }
        for (Seen e : seen) {
          Sent request = byTrace.get(e.traceId());
          assertThat(request).as("the request of trace %s read in pid %d's entry", e.traceId(), e.pid()).isNotNull();
          assertThat(request.service().pid()).as("the process of trace %s", e.traceId()).isEqualTo(e.pid());
          assertThat(request.answeredNanos()).as("trace %s's answer came after its entry was read", e.traceId()).isGreaterThanOrEqualTo(e.readNanos());
        }
        Figures.atLeast("traces_ctx_v1 entries read during the load, each a request in flight in its process", seen.size(), 100);
      }
    } finally {
      processes.forEach(Process::destroyForcibly);
    }
  }

  /** Copies of examples/shop, one per two services, across Go releases and builds; each started twice. */
  private static List<Service> startServices(Path dir, List<Process> processes) throws IOException {
    List<GoRelease> releases = GoBuilds.covered();
    List<Service> services = new ArrayList<>();
    for (int b = 0; b < (SERVICES + 1) / 2; b++) {
      GoRelease release = releases.get(b % releases.size());
      Path binary = dir.resolve(String.format("svc%02d", b));
      Files.copy(GoBuilds.binary("shop", release, b % 2 == 0 ? GoBuild.DEFAULT : GoBuild.STRIPPED_PIE_PURE), binary);
      binary.toFile().setExecutable(true);
      for (int replica = 0; replica < 2 && services.size() < SERVICES; replica++) {
        Process p = new ProcessBuilder(binary.toString(), "-addr", "127.0.0.1:0").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).as("%s starts", binary).startsWith("listening on ");
        services.add(new Service(line.substring("listening on ".length()).strip(), (int) p.pid(), binary.getFileName().toString()));
      }
    }
    return services;
  }

  /** Requests of /checkout?ms=2 to every service in turn, from a few clients, for {@link #LOAD}. */
  private void load(List<Service> services, List<Sent> sent) throws Exception {
    AtomicInteger next = new AtomicInteger();
    long until = System.nanoTime() + LOAD.toNanos();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> running = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      running.add(clients.submit(() -> {
        while (System.nanoTime() < until) {
          Service s = services.get(Math.floorMod(next.getAndIncrement(), services.size()));
          String trace = HostChurnTest.traceId();
          long at = System.nanoTime();
          HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + s.address() + "/checkout?ms=2")).timeout(Duration.ofSeconds(30))
              .header("traceparent", "00-" + trace + "-00f067aa0ba902b7-01").build(), HttpResponse.BodyHandlers.discarding());
          assertThat(r.statusCode()).isEqualTo(200);
          sent.add(new Sent(trace, s, at, System.nanoTime()));
        }
        return null;
      }));
    }
    for (Future<?> f : running) {
      f.get(LOAD.toSeconds() + 60, TimeUnit.SECONDS);
    }
    clients.shutdown();
  }

  /** Reads the whole pinned map every 20 ms while the load runs. */
  private static void pollEntries(BraidProcess braid, AtomicBoolean loading, List<Seen> seen) {
    while (loading.get()) {
      long at = System.nanoTime();
      for (Map.Entry<Long, TraceContext> e : braid.entries().entrySet()) {
        seen.add(new Seen((int) (e.getKey() >>> 32), e.getValue().traceId(), at));
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static void record(String when, BraidProcess.Footprint f) {
    Figures.record("MiB RSS " + when, f.rssBytes() >> 20, "");
    Figures.record("MiB heap after GC " + when, f.heapBytes() >> 20, "");
    Figures.record("open files " + when, f.files(), f.probes() + " probes, " + f.binaries() + " binaries");
  }

}
