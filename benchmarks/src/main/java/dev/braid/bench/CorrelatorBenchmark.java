package dev.braid.bench;

import dev.braid.bpf.MonotonicClock;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.Batch;
import dev.braid.correlator.Correlator;
import dev.braid.correlator.ProcessInfo;
import dev.braid.correlator.otlp.ProfilesEncoder;
import dev.braid.correlator.otlp.SpansEncoder;
import dev.braid.correlator.otlp.TraceFile;
import dev.braid.examples.ExampleService;
import dev.braid.examples.Examples;
import dev.braid.profiler.SampleEvents;
import dev.braid.profiler.Sampler;
import dev.braid.profiler.StackSample;
import dev.braid.profiler.Symbolizer;
import dev.braid.tracer.SpanEvents;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The correlator's hot path on one core, from ring buffer records to export bytes: decode
 * (sampler and tracer records as the BPF programs lay them out), symbolize, join samples to spans,
 * and encode (OTLP profiles protobuf, OTLP/JSON spans). The samples are real: braid's sampler
 * records the shop under load once, at set-up, and the benchmark replays them. Scores are events
 * per second; one benchmark thread, so per core.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class CorrelatorBenchmark {
  static final int SAMPLES = 8192;
  static final int SPANS = 64;
  /** Spans per span-pipeline invocation: a 100 ms drain at ~10k requests/s. */
  static final int BATCH_SPANS = 1024;

  private final Arena arena = Arena.ofShared();
  private ExampleService shop;
  private Symbolizer symbolizer;
  private final List<MemorySegment> samples = new ArrayList<>();
  private final List<MemorySegment> starts = new ArrayList<>();
  private final List<MemorySegment> ends = new ArrayList<>();
  private final List<StackSample> decoded = new ArrayList<>();
  private Batch batch;
  private final MonotonicClock clock = MonotonicClock.measure();
  private final ProfilesEncoder profiles = new ProfilesEncoder(99);
  private final SpanEvents spanEvents = new SpanEvents();
  private TraceFile traceFile;
  private Path traceFilePath;
  private final List<MemorySegment> batchStarts = new ArrayList<>();
  private final List<MemorySegment> batchEnds = new ArrayList<>();
  private Correlator spanCorrelator;
  private long now;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    Path binary = Examples.binary("shop");
    shop = ExampleService.start(binary, "-addr", "127.0.0.1:0", "-spinners", "1");
    List<StackSample> real = sampleTheShopUnderLoad();
    // Its spinner would take a core from the benchmark; stopped, its maps still symbolize.
    signal(shop, "STOP");
    SplittableRandom random = new SplittableRandom(42);
    List<TraceContext> contexts = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    for (int s = 0; s < SPANS; s++) {
      TraceContext ctx = new TraceContext(hex.toHexDigits(random.nextLong()) + hex.toHexDigits(random.nextLong()), hex.toHexDigits(random.nextLong() | 1));
      contexts.add(ctx);
      starts.add(SpanEvents.start(arena, shop.pid(), shop.pid(), 100 + s, 1_000 + s, ctx, "GET", "/api/cart"));
      ends.add(SpanEvents.end(arena, shop.pid(), shop.pid(), 100 + s, 2_000_000 + s, ctx, "/api/cart"));
    }
    for (int i = 0; i < SAMPLES; i++) {
      // Half the samples are inside one of the spans, as on a busy service.
      StackSample s = real.get(i % real.size());
      Optional<TraceContext> ctx = i % 2 == 0 ? Optional.of(contexts.get(i % SPANS)) : Optional.empty();
      samples.add(SampleEvents.record(arena, s.pid(), s.tid(), 10_000 + i, ctx, s.userStack(), s.kernelStack(), s.userSpWord()));
    }
    symbolizer = new Symbolizer();
    Correlator correlator = correlator();
    for (MemorySegment r : samples) {
      StackSample s = SampleEvents.decode(r);
      decoded.add(s);
      correlator.onSample(s, symbolizer.symbolize(s));
    }
    batch = correlator.flush(3_000_000, true);
    for (int s = 0; s < BATCH_SPANS; s++) {
      TraceContext ctx = new TraceContext(hex.toHexDigits(random.nextLong()) + hex.toHexDigits(random.nextLong()), hex.toHexDigits(random.nextLong() | 1));
      batchStarts.add(SpanEvents.start(arena, shop.pid(), shop.pid(), 100 + s, 1_000 + s, ctx, "GET", "/api/cart"));
      batchEnds.add(SpanEvents.end(arena, shop.pid(), shop.pid(), 100 + s, 2_000_000 + s, ctx, "/api/cart"));
    }
    spanCorrelator = correlator(); // one for the whole run, as the daemon has
  }

  /**
   * Real stacks: the shop serving its JSON API under load (and a goroutine spinning outside any
   * request), sampled by braid's sampler at 999 Hz for a few seconds. Needs root, as braid does.
   */
  private List<StackSample> sampleTheShopUnderLoad() throws Exception {
    Path pins = Files.createTempDirectory(Path.of("/sys/fs/bpf"), "braid-bench-");
    List<StackSample> real = new ArrayList<>();
    try (Sampler sampler = Sampler.start(pins, 999, false, real::add)) {
      sampler.addProcess(shop.pid());
      Process load =
          new ProcessBuilder(
                  Examples.binary("loadgen").toString(), "-target", shop.url(), "-routes", "/api/cart?items=200,/checkout?ms=2,/search?ms=2",
                  "-c", "4", "-d", "4s", "-out", "/dev/null")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      load.waitFor();
      sampler.detach();
      sampler.drain();
    } finally {
      try (var files = Files.walk(pins)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
    if (real.size() < 1000) {
      throw new IllegalStateException("only " + real.size() + " samples of the shop under load");
    }
    return real;
  }

  private static void signal(ExampleService service, String signal) throws Exception {
    int rc = new ProcessBuilder("kill", "-" + signal, Integer.toString(service.pid())).inheritIO().start().waitFor();
    if (rc != 0) {
      throw new IllegalStateException("kill -" + signal + " " + service.pid() + " exited with " + rc);
    }
  }

  private Correlator correlator() {
    java.util.Map<Integer, ProcessInfo> known = new java.util.HashMap<>(); // one record a process, as the daemon keeps
    return new Correlator(clock, pid -> known.computeIfAbsent(pid, p -> new ProcessInfo(p, "/srv/shop", "shop", "bench-host")));
  }

  /**
   * traces.jsonl in the page cache, as with --out, on tmpfs where there is one: at a million spans
   * a second the benchmark writes ~600 MB/s, and on a disk the kernel's write-back throttling
   * would be measured instead of braid. A new file each iteration.
   */
  @Setup(Level.Iteration)
  public void openTraceFile() throws IOException {
    Path shm = Path.of("/dev/shm");
    traceFilePath =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempFile(shm, "braid-bench-traces-", ".jsonl")
            : Files.createTempFile("braid-bench-traces-", ".jsonl");
    traceFile = new TraceFile(traceFilePath);
  }

  @TearDown(Level.Iteration)
  public void removeTraceFile() throws IOException {
    traceFile.close();
    Files.delete(traceFilePath);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    symbolizer.close();
    signal(shop, "CONT");
    shop.close();
    arena.close();
  }

  /** Decode, symbolize, join to spans and encode OTLP profiles: sample events per second. */
  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public byte[] samplePipeline() {
    Correlator correlator = correlator();
    for (MemorySegment r : starts) {
      correlator.onSpanEvent(spanEvents.decode(r));
    }
    for (MemorySegment r : samples) {
      StackSample s = SampleEvents.decode(r);
      correlator.onSample(s, symbolizer.symbolize(s));
    }
    for (MemorySegment r : ends) {
      correlator.onSpanEvent(spanEvents.decode(r));
    }
    correlator.tick();
    Batch b = correlator.flush(now += 3_000_000, false);
    return profiles.encode(b.samples(), b.startEpochNanos(), b.endEpochNanos()).toByteArray();
  }

  /** Sampler records to {@link StackSample}s. */
  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public int decodeSamples() {
    int n = 0;
    for (MemorySegment r : samples) {
      n += SampleEvents.decode(r).userStack().length;
    }
    return n;
  }

  /** Program counters to locations (cached per binary, as in a running daemon). */
  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public int symbolize() {
    int n = 0;
    for (StackSample s : decoded) {
      n += symbolizer.symbolize(s).size();
    }
    return n;
  }

  /** A flush's samples to OTLP profiles protobuf. */
  @Benchmark
  @OperationsPerInvocation(SAMPLES)
  public byte[] encodeProfiles() {
    return profiles.encode(batch.samples(), batch.startEpochNanos(), batch.endEpochNanos()).toByteArray();
  }

  /**
   * Span start and end records, decoded and joined by a long-lived correlator, to a traces.jsonl
   * line written to a file: span events per second, as the daemon's pipeline handles them with
   * {@code --out}. (What it leaves out: reading the records out of the ring buffer.)
   */
  @Benchmark
  @OperationsPerInvocation(2 * BATCH_SPANS)
  public int spanPipeline() {
    Batch b = spans();
    traceFile.write(b.spans());
    return b.spans().size();
  }

  /** The same spans encoded as an OTLP export request (protobuf), as with {@code --otlp-endpoint}. */
  @Benchmark
  @OperationsPerInvocation(2 * BATCH_SPANS)
  public byte[] spanPipelineOtlp() {
    return SpansEncoder.encode(spans().spans()).toByteArray();
  }

  private Batch spans() {
    for (MemorySegment r : batchStarts) {
      spanCorrelator.onSpanEvent(spanEvents.decode(r));
    }
    for (MemorySegment r : batchEnds) {
      spanCorrelator.onSpanEvent(spanEvents.decode(r));
    }
    return spanCorrelator.flush(now += 3_000_000, false);
  }
}
