package dev.braid.daemon.groundtruth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.braid.bpf.BpfMap;
import dev.braid.bpf.TracesContextMap;
import dev.braid.bpf.testing.Figures;
import dev.braid.bpf.testing.PinRoot;
import dev.braid.bpf.testing.Wait;
import dev.braid.correlator.Batch;
import dev.braid.correlator.CompletedSpan;
import dev.braid.daemon.Daemon;
import dev.braid.daemon.DaemonConfig;
import dev.braid.correlator.ProfiledSample;
import dev.braid.examples.Examples;
import dev.braid.profiler.Line;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * One ground-truth run: example services started with their own settings, braid attached to
 * them, the load generator sending requests with known traceparents, and everything braid handed
 * out collected. The kernel, the Go runtime and the services are real.
 */
public final class TracedRun {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Batch> batches;
  private final List<JsonNode> sent;
  private final Map<String, Integer> pids;
  private final Map<String, String> addresses;
  private final Map<String, Long> entriesWhenIdle;
  private final long entriesDuringLoad;
  private final MeterRegistry metrics;
  private final Path outputDir;

  private TracedRun(
      List<Batch> batches,
      List<JsonNode> sent,
      Map<String, Integer> pids,
      Map<String, String> addresses,
      Map<String, Long> entriesWhenIdle,
      long entriesDuringLoad,
      MeterRegistry metrics,
      Path outputDir) {
    this.entriesDuringLoad = entriesDuringLoad;
    this.batches = batches;
    this.sent = sent;
    this.pids = pids;
    this.addresses = Map.copyOf(addresses);
    this.entriesWhenIdle = entriesWhenIdle;
    this.metrics = metrics;
    this.outputDir = outputDir;
  }

  /** A service to start: its name in the run, binary, environment and arguments (where {{name}} is the URL of a service started before). */
  public record Service(String name, Path binary, Map<String, String> env, List<String> args) {
    public static Service shop(Path binary, String... args) {
      return new Service("shop", binary, Map.of(), List.of(args));
    }

    public Service withEnv(String key, String value) {
      Map<String, String> e = new HashMap<>(env);
      e.put(key, value);
      return new Service(name, binary, e, args);
    }

    public Service named(String newName) {
      return new Service(newName, binary, env, args);
    }

    /** The same service over HTTPS (the shop's -tls: HTTP/2 to clients that offer it). */
    public Service overTls() {
      List<String> more = new ArrayList<>(args);
      more.add("-tls");
      return new Service(name, binary, env, more);
    }

    /** How a client reaches it: {@code https} with -tls, else {@code http}. */
    public String scheme() {
      return args.contains("-tls") ? "https" : "http";
    }
  }

  /** The longest any run's load lasts while it waits for its goal. */
  public static final Duration LIMIT = Duration.ofSeconds(60);

  /**
   * Load: {@code routes} (each may use {{name}} for a service's URL, scheme://host:port) for {@code duration},
   * then on until braid has handed out what {@code goal} asks for (at most {@link #LIMIT}); or
   * exactly {@code requests} requests, when that is not 0. Each record keeps the response header
   * {@code replyHeader} (none when empty).
   */
  public record Load(
      String target, String routes, Duration duration, int concurrency, String replyHeader, Goal goal, int requests, boolean http2, Path client) {
    public Load(String target, String routes, Duration duration, int concurrency) {
      this(target, routes, duration, concurrency, "");
    }

    public Load(String target, String routes, Duration duration, int concurrency, String replyHeader) {
      this(target, routes, duration, concurrency, replyHeader, Goal.NONE, 0, false, Examples.binary("loadgen"));
    }

    /** The same load, going on after its duration until {@code more} is reached too. */
    public Load until(Goal more) {
      return new Load(target, routes, duration, concurrency, replyHeader, goal.and(more), requests, http2, client);
    }

    /** The same load, sending {@code n} requests however long they take (at most {@link #LIMIT}). */
    public Load requests(int n) {
      return new Load(target, routes, duration, concurrency, replyHeader, goal, n, http2, client);
    }

    /** The same load over HTTP/2: by ALPN to an HTTPS service, with prior knowledge (h2c) to a plain one. */
    public Load overHttp2() {
      return new Load(target, routes, duration, concurrency, replyHeader, goal, requests, true, client);
    }

    /** The same load sent by another load generator with loadgen's flags and records (examples/grpc's grpcload). */
    public Load sentBy(Path generator) {
      return new Load(target, routes, duration, concurrency, replyHeader, goal, requests, http2, generator);
    }

    /** How long loadgen may send at most. */
    Duration most() {
      return goal == Goal.NONE && requests == 0 ? duration : LIMIT;
    }
  }

  /**
   * Starts the services, braid (its config made by {@code configure} from one for the first
   * service's binary), then the load; stops everything and returns what braid handed out.
   */
  public static TracedRun run(List<Service> services, Load load, UnaryOperator<DaemonConfig> configure) {
    return run(services, load, configure, daemon -> {});
  }

  /**
   * As {@link #run(List, Load, UnaryOperator)}, with {@code duringLoad} given the daemon as soon
   * as the load has started; the run waits for it and for the load to end.
   */
  public static TracedRun run(List<Service> services, Load load, UnaryOperator<DaemonConfig> configure, Consumer<Daemon> duringLoad) {
    return run(services, load, configure, (daemon, addresses) -> duringLoad.accept(daemon));
  }

  /** As {@link #run(List, Load, UnaryOperator, Consumer)}, with the services' addresses too (name -> scheme://host:port). */
  public static TracedRun run(
      List<Service> services, Load load, UnaryOperator<DaemonConfig> configure, java.util.function.BiConsumer<Daemon, Map<String, String>> duringLoad) {
    List<Batch> batches = new CopyOnWriteArrayList<>();
    List<Process> started = new ArrayList<>();
    Map<String, String> addresses = new HashMap<>(); // name -> scheme://host:port
    Map<String, Integer> pids = new HashMap<>();
    try (PinRoot pins = PinRoot.create()) {
      Path out = Files.createTempDirectory(Files.createDirectories(RUNS), "run");
      for (Service s : services) {
        List<String> command = command(s).stream().map(arg -> withAddresses(arg, addresses)).toList(); // {{name}}: a service started before
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(s.env());
        Process p = pb.start();
        started.add(p);
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).as("%s starts", s.name()).startsWith("listening on ");
        addresses.put(s.name(), s.scheme() + "://" + line.substring("listening on ".length()).strip());
        pids.put(s.name(), (int) p.pid());
      }
      // Flushed every second: a goal is judged on what braid handed out.
      DaemonConfig config =
          configure.apply(
              DaemonConfig.forExecutable(services.getFirst().binary(), out, pins.path()).withSampleHz(499).withFlushInterval(Duration.ofSeconds(1)));
      List<JsonNode> sent = new ArrayList<>();
      Map<String, Long> entriesWhenIdle;
      long entriesDuringLoad;
      MeterRegistry metrics;
      try (Daemon daemon = Daemon.start(config, batches::add)) {
        metrics = daemon.metrics();
        Path requests = out.resolve("requests.jsonl");
        String routes = withAddresses(load.routes(), addresses);
        long loadStarted = System.nanoTime();
        Process loadgen =
            new ProcessBuilder(
                    load.client().toString(),
                    "-target", addresses.get(load.target()),
                    "-h2=" + load.http2(),
                    "-routes", routes,
                    "-c", Integer.toString(load.concurrency()),
                    "-d", load.most().toMillis() + "ms",
                    "-n", Integer.toString(load.requests()),
                    "-out", requests.toString(),
                    "-reply-header", load.replyHeader())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        started.add(loadgen);
        // Once it says "sending", a SIGTERM ends the load gracefully: in-flight requests are answered and recorded.
        assertThat(new BufferedReader(new InputStreamReader(loadgen.getInputStream(), StandardCharsets.UTF_8)).readLine()).isEqualTo("sending");
        LoadWatcher watcher = new LoadWatcher(loadgen, load, loadStarted, pins.path(), pids, batches);
        try {
          duringLoad.accept(daemon, Map.copyOf(addresses));
          assertThat(loadgen.waitFor(load.most().toSeconds() + 60, TimeUnit.SECONDS)).isTrue();
        } finally {
          watcher.stop();
        }
        entriesDuringLoad = watcher.mostEntries();
        assertThat(loadgen.exitValue()).isZero();
        Figures.record("seconds of load (" + (load.requests() > 0 ? load.requests() + " requests"
                : load.duration().toSeconds() + " s, then until " + load.goal().description()) + ")",
            (System.nanoTime() - loadStarted) / 1_000_000_000L, "<= " + load.most().toSeconds());
        for (String line : Files.readAllLines(requests)) {
          sent.add(JSON.readTree(line));
        }
        // Work a handler left behind (a spawned goroutine) may still run: its entry is right until it is done.
        Wait.until(IDLE_LIMIT, Duration.ofMillis(20), () -> entriesOf(pins.path(), pids).values().stream().allMatch(n -> n == 0));
        entriesWhenIdle = entriesOf(pins.path(), pids);
        assertThat(daemon.pipelineErrors()).isZero();
      }
      return new TracedRun(List.copyOf(batches), sent, pids, addresses, entriesWhenIdle, entriesDuringLoad, metrics, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      for (Process p : started) {
        p.destroyForcibly(); // loadgen too, if the run failed before it ended
      }
    }
  }

  /**
   * Where runs keep braid's files: in the module's target, as Maven's reports are (kept for a look
   * after a failure, gone with mvn clean; ./braid test clears it before the suite).
   */
  private static final Path RUNS = Path.of("target", "groundtruth");

  /** How long a run waits, once the load is over, for the services to show no entry. */
  private static final Duration IDLE_LIMIT = Duration.ofSeconds(10);

  /**
   * Watches a running load every 50 ms: the most traces_ctx_v1 entries seen at once (what another
   * profiler would read meanwhile), and, once the load's duration is over, its goal, which ends
   * the load when reached (SIGTERM to loadgen). A failure here ends the load too, and is rethrown.
   */
  private static final class LoadWatcher {
    private final AtomicLong mostEntries = new AtomicLong();
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    private final Thread thread;

    LoadWatcher(Process loadgen, Load load, long loadStarted, Path pinRoot, Map<String, Integer> pids, List<Batch> batches) {
      boolean judgeGoal = load.goal() != Goal.NONE && load.requests() == 0;
      thread = Thread.ofPlatform().name("load-watcher").daemon().start(() -> {
        long nextGoalCheck = loadStarted + load.duration().toNanos();
        try {
          while (loadgen.isAlive()) {
            mostEntries.accumulateAndGet(entriesOf(pinRoot, pids).values().stream().mapToLong(Long::longValue).sum(), Math::max);
            if (judgeGoal && System.nanoTime() >= nextGoalCheck) {
              nextGoalCheck = System.nanoTime() + 250_000_000L;
              if (load.goal().reachedBy().test(new Goal.Progress(batches, mostEntries.get()))) {
                loadgen.destroy();
              }
            }
            Thread.sleep(50);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
          failure.set(e);
          loadgen.destroy();
        }
      });
    }

    long mostEntries() {
      return mostEntries.get();
    }

    void stop() throws InterruptedException {
      thread.interrupt();
      thread.join();
      if (failure.get() != null) {
        throw failure.get();
      }
    }
  }

  /** {@code text} with each {{name}} replaced by the URL of the service of that name. */
  private static String withAddresses(String text, Map<String, String> addresses) {
    for (Map.Entry<String, String> a : addresses.entrySet()) {
      text = text.replace("{{" + a.getKey() + "}}", a.getValue());
    }
    return text;
  }

  /** The traces_ctx_v1 entries of each service's threads, now. */
  private static Map<String, Long> entriesOf(Path pinRoot, Map<String, Integer> pids) {
    try (BpfMap map = TracesContextMap.openPinned(pinRoot).orElseThrow()) {
      List<Long> tgids = map.keys().stream().map(k -> TracesContextMap.keyValue(k) >>> 32).toList();
      Map<String, Long> entries = new HashMap<>();
      pids.forEach((name, pid) -> entries.put(name, tgids.stream().filter(t -> t == pid.longValue()).count()));
      return entries;
    }
  }

  private static List<String> command(Service s) {
    List<String> cmd = new ArrayList<>();
    cmd.add(s.binary().toString());
    cmd.addAll(List.of("-addr", "127.0.0.1:0"));
    cmd.addAll(s.args());
    return cmd;
  }

  /** What the daemon handed its outputs, in order. */
  public List<Batch> batches() {
    return batches;
  }

  public List<CompletedSpan> spans() {
    return batches.stream().flatMap(b -> b.spans().stream()).toList();
  }

  public List<ProfiledSample> samples() {
    return batches.stream().flatMap(b -> b.samples().stream()).toList();
  }

  /** --auto-sdk: the spans braid exported for programs that use the OpenTelemetry API alone. */
  public List<io.opentelemetry.proto.trace.v1.Span> applicationSpans() {
    return batches.stream()
        .flatMap(b -> b.applicationSpans().stream())
        .flatMap(r -> r.getScopeSpansList().stream())
        .flatMap(s -> s.getSpansList().stream())
        .toList();
  }

  /** What the load generator sent, one record per request. */
  public List<JsonNode> sent() {
    return sent;
  }

  /**
   * The traces_ctx_v1 entries each service's threads held once the load was over and its last
   * work done: every one would be a span that outlived its request.
   */
  public Map<String, Long> entriesWhenIdle() {
    return entriesWhenIdle;
  }

  /** The most traces_ctx_v1 entries of the services' threads seen at once while the load ran. */
  public long entriesDuringLoad() {
    return entriesDuringLoad;
  }

  /** The daemon's metrics, as they stood once it had stopped. */
  public MeterRegistry metrics() {
    return metrics;
  }

  /** Where braid wrote its files. */
  public Path outputDir() {
    return outputDir;
  }

  /** Where a service listened: scheme://host:port. */
  public String address(String service) {
    return addresses.get(service);
  }

  public int pid(String service) {
    return pids.get(service);
  }

  /** The samples that run {@code function} (at any depth, inlined or not): see {@link #holds}. */
  public List<ProfiledSample> samplesIn(String function) {
    return samples().stream().filter(s -> holds(s, function)).toList();
  }

  /**
   * Whether the sample's thread runs {@code function}: it is on the stack above any {@code
   * runtime.mcall}. Below an mcall are the frames of a goroutine the scheduler is taking off the
   * thread: the thread runs scheduler code then, on g0, and may already show the span of the
   * goroutine it switches to.
   */
  public static boolean holds(ProfiledSample s, String function) {
    for (Line l : (Iterable<Line>) s.stack().stream().flatMap(loc -> loc.lines().stream())::iterator) {
      if (l.function().equals("runtime.mcall")) {
        return false;
      }
      if (l.function().equals(function)) {
        return true;
      }
    }
    return false;
  }
}
