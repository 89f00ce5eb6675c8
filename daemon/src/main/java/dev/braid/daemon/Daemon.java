package dev.braid.daemon;

import dev.braid.bpf.BpfMap;
import dev.braid.bpf.MonotonicClock;
import dev.braid.correlator.Batch;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.Correlator;
import dev.braid.correlator.GoroutineLocators;
import dev.braid.correlator.Output;
import dev.braid.correlator.ProcessInfo;
import dev.braid.correlator.export.OtlpExport;
import dev.braid.correlator.otlp.ProfileFile;
import dev.braid.correlator.otlp.TraceFile;
import dev.braid.correlator.pprof.PprofDirectory;
import dev.braid.profiler.Sampler;
import dev.braid.profiler.StackSample;
import dev.braid.profiler.Symbolizer;
import dev.braid.tracer.GoProgram;
import dev.braid.tracer.SpanEvent;
import dev.braid.tracer.Tracer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * braid standalone: the tracer writes traces_ctx_v1, the sampler reads it, the correlator joins
 * both and the outputs write files. One pipeline thread ({@code braid-pipeline}) drains the ring
 * buffers every 100 ms, looks for new and exited processes every second, and flushes every
 * {@link DaemonConfig#flushInterval()}.
 *
 * <p>{@link #start} returns once every probe is attached. {@link #close()} detaches, drains what
 * is left, writes the last batch, and removes braid's entries from the pinned map. Errors inside
 * the pipeline are logged and counted; the pipeline keeps running.
 */
public final class Daemon implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Daemon.class.getName());

  private final DaemonConfig config;
  private final MonotonicClock clock = MonotonicClock.followingWallClock();
  private final Map<Integer, ProcessInfo> processes = new HashMap<>();
  private final Correlator correlator;
  private final Symbolizer symbolizer = new Symbolizer();
  private final List<Consumer<Batch>> observers = new CopyOnWriteArrayList<>();
  private final ProcessResources resources;
  private final List<Output> outputs = new ArrayList<>();
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final DaemonMetrics metrics = new DaemonMetrics(registry);
  private MetricsServer metricsServer;
  private Tracer tracer;
  private Sampler sampler;
  private ProcessWatcher watcher; // null in reader mode
  private ReaderTargets readerTargets; // reader mode only
  private Thread pipeline;
  private volatile boolean stopping;
  private boolean closed;
  private long pipelineErrors;
  private final LossReport losses;

  private Daemon(DaemonConfig config) {
    this.config = config;
    this.losses = new LossReport(config.spanBuffer());
    this.resources = new ProcessResources(config);
    this.correlator = new Correlator(clock, this::process);
  }

  /** The files of the mode, and the collector when there is one. */
  private void openOutputs() {
    if (config.files() && config.mode().traces()) {
      outputs.add(new TraceFile(config.outputDir().resolve("traces.jsonl")));
    }
    if (config.files() && config.mode().samples()) {
      outputs.add(new ProfileFile(config.outputDir().resolve("profiles.jsonl"), config.sampleHz()));
      outputs.add(new PprofDirectory(config.outputDir().resolve("pprof"), config.sampleHz()));
    }
    config.otlp().ifPresent(endpoint -> outputs.add(new OtlpExport(endpoint, config.sampleHz(), registry)));
  }

  /**
   * Loads and attaches everything (probing the executable, or every Go process found), and
   * starts the pipeline.
   *
   * @throws dev.braid.tracer.UnsupportedBinaryException when the executable cannot be traced
   * @throws dev.braid.bpf.BpfException when the kernel refuses something
   */
  public static Daemon start(DaemonConfig config, Consumer<Batch> observer) {
    Daemon daemon = new Daemon(config);
    daemon.observers.add(observer);
    try {
      config.metricsAddress().ifPresent(a -> daemon.metricsServer = new MetricsServer(a, daemon.registry));
      daemon.openOutputs();
      daemon.attach();
    } catch (RuntimeException e) {
      daemon.close();
      throw e;
    }
    return daemon;
  }

  private void attach() {
    if (config.mode().traces()) {
      boolean sampleTime = config.contextSource() == DaemonConfig.ContextSource.SAMPLE;
      Tracer.Options options = new Tracer.Options(config.propagate(), sampleTime, config.channelLinks(), config.autoSdk(), config.spanBuffer());
      // Writer mode: another profiler stamps its samples from traces_ctx_v1, which showed braid's
      // server span before the application's began, so braid's span stays exported.
      boolean replaceable = config.mode().samples();
      tracer = Tracer.start(config.pinRoot(), options, event -> {
        metrics.spanEvents.increment();
        process(event.pid());
        if (replaceable || !(event instanceof SpanEvent.ApplicationServerSpan)) {
          correlator.onSpanEvent(event);
        }
      });
      metrics.tracer(tracer);
      watcher = new ProcessWatcher(config, tracer, new ProcessWatcher.Listener() {
        @Override
        public void started(int pid, GoProgram program) {
          register(pid, program);
        }

        @Override
        public void exited(int pid) {
          processExited(pid);
        }
      });
      config.executable().ifPresent(watcher::instrumentExecutable);
    }
    if (config.mode() == DaemonConfig.Mode.READER) {
      readerTargets = new ReaderTargets(config, resources);
    }
    if (config.mode().samples()) {
      boolean everyProcess = config.mode() == DaemonConfig.Mode.READER && config.pids().isEmpty();
      Optional<BpfMap> goroutines =
          config.contextSource() == DaemonConfig.ContextSource.SAMPLE ? Optional.of(tracer.goroutinesMap()) : Optional.empty();
      sampler = Sampler.start(config.pinRoot(), config.sampleHz(), everyProcess, goroutines, this::onSample);
      metrics.sampler(sampler);
      if (readerTargets != null) {
        config.pids().forEach(sampler::addProcess);
      }
    }
    scanProcesses();
    pipeline = Thread.ofPlatform().name("braid-pipeline").daemon(false).start(this::runPipeline);
  }

  private void onSample(StackSample sample) {
    metrics.samples.increment();
    if (readerTargets == null || process(sample.pid()) != null) {
      correlator.onSample(sample, symbolizer.symbolize(sample));
    }
  }

  /** The Prometheus registry of the daemon's metrics. */
  public PrometheusMeterRegistry metrics() {
    return registry;
  }

  /** Where the metrics endpoint listens, when it does. */
  public Optional<java.net.InetSocketAddress> metricsAddress() {
    return Optional.ofNullable(metricsServer).map(MetricsServer::address);
  }

  /** Pids of the traced processes that are running. */
  public synchronized Set<Integer> processes() {
    return Set.copyOf(processes.keySet());
  }

  private void runPipeline() {
    long lastScan = System.nanoTime();
    long lastFlush = System.nanoTime();
    while (!stopping) {
      try {
        Thread.sleep(DaemonConfig.DRAIN_INTERVAL);
      } catch (InterruptedException e) {
        break; // stopping
      }
      guarded("drain", this::drain);
      long now = System.nanoTime();
      if (now - lastScan >= DaemonConfig.SCAN_INTERVAL.toNanos()) {
        lastScan = now;
        guarded("process scan", this::scanProcesses);
        guarded("loss check", () -> losses.check(tracer == null ? Tracer.Stats.NONE : tracer.stats(), sampler == null ? 0 : sampler.lostSamples()));
      }
      if (now - lastFlush >= config.flushInterval().toNanos()) {
        lastFlush = now;
        guarded("flush", () -> flush(false));
      } else {
        guarded("flush", this::flushFullBatches);
      }
    }
  }

  private synchronized void drain() {
    // Span events first: a span's start is written before any sample can name it.
    if (tracer != null) {
      tracer.drain();
    }
    if (sampler != null) {
      sampler.drain();
    }
    correlator.tick();
    metrics.pipeline(correlator, processes.size());
  }

  private synchronized void scanProcesses() {
    if (watcher != null) {
      watcher.scan();
    }
    if (readerTargets != null) {
      readerTargets.exited().forEach(this::processExited);
    }
  }

  /**
   * What is known of a pid; a process a probe reported before the walk found it is looked up. In
   * reader mode, null for a process whose samples are not kept.
   */
  private synchronized ProcessInfo process(int pid) {
    ProcessInfo known = processes.get(pid);
    if (known != null) {
      return known;
    }
    if (readerTargets != null) {
      known = readerTargets.process(pid).orElse(null);
      if (known != null) {
        processes.put(pid, known);
      }
      return known;
    }
    watcher.discover(pid); // registers it through the listener
    known = processes.get(pid);
    // A process that exited before it could be looked at keeps a placeholder.
    return known != null ? known : resources.describe(pid, "/proc/" + pid + "/exe", "unknown_service");
  }

  private synchronized ProcessInfo register(int pid, GoProgram program) {
    ProcessInfo info = resources.describe(pid, program.path().toString(), program.serviceName());
    processes.put(pid, info);
    if (sampler != null) {
      if (tracer.sampleTimeContext(program)) {
        sampler.addProcess(pid, GoroutineLocators.of(program));
      } else {
        sampler.addProcess(pid);
      }
    }
    tracer.propagateFor(pid);
    LOG.log(Level.INFO, "tracing " + info.serviceName() + " pid " + pid + " (" + program.goVersion() + ", offsets from " + program.offsetSource() + ")");
    return info;
  }

  private void processExited(int pid) {
    LOG.log(Level.INFO, "pid " + pid + " exited");
    drain(); // what it wrote before it died still counts
    correlator.processExited(pid, System.nanoTime());
    if (tracer != null) {
      tracer.forgetProcess(pid);
    }
    if (sampler != null && readerTargets == null) {
      sampler.removeProcess(pid);
    }
    symbolizer.forgetProcess(pid);
    processes.remove(pid);
  }

  private synchronized void flush(boolean last) {
    write(correlator.flush(System.nanoTime(), last));
    metrics.pipeline(correlator, processes.size()); // a flush releases held spans, or drops links
  }

  /** A busy service's spans go out before the interval is over, in full batches (MAX_BATCH_SPANS). */
  private synchronized void flushFullBatches() {
    while (correlator.completedSpans() >= DaemonConfig.MAX_BATCH_SPANS) {
      write(correlator.flushSpans(System.nanoTime(), DaemonConfig.MAX_BATCH_SPANS));
    }
  }

  /**
   * Writes a batch, in parts of at most MAX_BATCH_SPANS spans, braid's then those of --auto-sdk
   * programs (the samples go with the last).
   */
  private void write(Batch whole) {
    List<CompletedSpan> spans = whole.spans();
    List<ResourceSpans> applications = whole.applicationSpans();
    int max = DaemonConfig.MAX_BATCH_SPANS;
    int s = 0;
    int a = 0;
    while (spans.size() - s + applications.size() - a > max) {
      int braids = Math.min(max, spans.size() - s);
      int theirs = max - braids;
      deliver(new Batch(whole.startEpochNanos(), whole.endEpochNanos(), spans.subList(s, s + braids), applications.subList(a, a + theirs), List.of(), false));
      s += braids;
      a += theirs;
    }
    deliver(s == 0 && a == 0
        ? whole
        : new Batch(whole.startEpochNanos(), whole.endEpochNanos(), spans.subList(s, spans.size()), applications.subList(a, applications.size()),
            whole.samples(), whole.last()));
  }

  private void deliver(Batch batch) {
    for (Output o : outputs) {
      guarded("writing " + o.name(), () -> o.write(batch));
    }
    for (Consumer<Batch> o : observers) {
      guarded("batch observer", () -> o.accept(batch));
    }
  }

  private void guarded(String what, Runnable step) {
    try {
      step.run();
    } catch (RuntimeException e) {
      metrics.pipelineErrors.increment();
      if (pipelineErrors++ < 10) {
        LOG.log(Level.ERROR, what + " failed; braid keeps running", e);
      }
    }
  }

  /**
   * What braid holds for a process: its entries in the kernel's maps (traces_ctx_v1, goroutine
   * state) and whether the daemon still tracks it. Zero once a process that exited is forgotten.
   */
  public synchronized int stateOf(int pid) {
    return (tracer == null ? 0 : tracer.entriesOf(pid)) + (processes.containsKey(pid) ? 1 : 0);
  }

  /** Errors the pipeline logged and survived. */
  public synchronized long pipelineErrors() {
    return pipelineErrors;
  }

  /** Detaches, drains, writes the last batch and removes braid's map entries. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      stopping = true;
    }
    if (pipeline != null) {
      pipeline.interrupt();
      try {
        pipeline.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      // No probe or sample after this; then take what they left in the ring buffers.
      if (tracer != null) {
        tracer.detach();
      }
      if (sampler != null) {
        sampler.detach();
      }
      guarded("final drain", this::drain);
      flush(true);
    } finally {
      guarded("last reading of the kernel's counters", metrics::freezeKernelReadings);
      closeQuietly(sampler);
      closeQuietly(tracer);
      closeQuietly(symbolizer);
      outputs.forEach(this::closeQuietly);
      closeQuietly(metricsServer);
      registry.close();
    }
  }

  private void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.log(Level.ERROR, "closing " + c.getClass().getSimpleName() + " failed", e);
    }
  }
}
