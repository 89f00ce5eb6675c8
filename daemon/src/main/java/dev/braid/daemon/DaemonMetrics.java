package dev.braid.daemon;

import dev.braid.correlator.Correlator;
import dev.braid.profiler.Sampler;
import dev.braid.tracer.Tracer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * The daemon's metrics. Counts on the hot path are Micrometer counters; what the kernel keeps
 * (lost samples, ring buffer drops, map entries) is read when scraped; what the pipeline owns
 * (open spans, waiting samples) it publishes after each drain.
 */
final class DaemonMetrics {
  final Counter spanEvents;
  final Counter samples;
  final Counter pipelineErrors;
  private final AtomicLong openSpans = new AtomicLong();
  private final AtomicLong waitingSamples = new AtomicLong();
  private final AtomicLong processes = new AtomicLong();
  private final Total linkPairs;
  private final Total linksDropped;
  private final Total linksLate;
  private final Total spansReplaced;
  private final Total replacedSpanLinks;
  private final Total applicationRootLinks;
  private final Total lateVerdicts;
  private final Total apiSpans;
  private final Total apiSpansCut;
  private final Total spansUnlinked;
  private final Total spanEndsLost;
  private final Total spansExpired;
  private final Total spanStartsLost;
  private final AtomicLong linksPending = new AtomicLong();
  private final List<KernelReading<?>> kernelReadings = new ArrayList<>();
  private final MeterRegistry registry;

  DaemonMetrics(MeterRegistry registry) {
    this.registry = registry;
    // The daemon's own footprint, which a host daemon is judged by: heap, threads, open files, CPU.
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    spanEvents = Counter.builder("braid.span.events").description("tracer events (span starts and ends, channel hand-offs) read from its ring buffer").register(registry);
    samples = Counter.builder("braid.samples").description("CPU samples read from the sampler's ring buffer").register(registry);
    pipelineErrors = Counter.builder("braid.pipeline.errors").description("errors the pipeline logged and survived").register(registry);
    gauge("braid.spans.open", openSpans, "spans started and not yet ended");
    gauge("braid.samples.waiting", waitingSamples, "samples waiting for their span to end");
    gauge("braid.processes", processes, "processes braid traces or samples");
    linkPairs = new Total(registry, "braid.links", "Go channel hand-offs between two spans; each gave both spans a link");
    linksDropped =
        new Total(registry, "braid.links.dropped", "channel links lost: their span did not end within 10 minutes, or 100k spans had links waiting");
    linksLate =
        new Total(registry, "braid.links.late", "channel links not added: their span had been exported (a goroutine outlived the span it inherited)");
    spansUnlinked =
        new Total(registry, "braid.spans.released.unlinked", "spans exported without the link of a value they left in a channel buffer: no receiver in 30 s");
    spansReplaced =
        new Total(registry, "braid.spans.replaced", "braid's server spans not exported: the application's own server span (OpenTelemetry SDK) replaced them");
    replacedSpanLinks = new Total(registry, "braid.links.replaced", "channel links lost with braid's spans that the application's spans replaced");
    lateVerdicts = new Total(registry, "braid.spans.replaced.late",
        "braid's server spans exported although the application's own replaced them: its span ended more than two drain cycles after braid's");
    applicationRootLinks = new Total(
        registry, "braid.links.application", "links from braid's spans to root spans of the application's (OpenTelemetry SDK) that started inside them");
    apiSpans = new Total(registry, "braid.auto_sdk.spans", "--auto-sdk: spans exported for programs that use the OpenTelemetry API alone");
    apiSpansCut =
        new Total(registry, "braid.auto_sdk.spans.cut", "--auto-sdk: spans exported with IDs, parent, times and name only: their JSON was over 16 KiB, or unreadable");
    spanEndsLost = new Total(registry, "braid.spans.ends.lost",
        "server spans whose end event was lost (span ring buffer full): ended when their goroutine began the next, braid.span.end_reason=end_lost");
    spansExpired = new Total(registry, "braid.spans.expired", "spans whose end never came, ended by braid after an hour open or beyond 200k open spans");
    spanStartsLost = new Total(registry, "braid.spans.starts.lost", "span ends without their start (span ring buffer full, or the span began before braid): not exported");
    gauge("braid.links.pending", linksPending, "spans with channel links waiting for their end, or for a receiver");
  }

  /** A gauge that keeps its value's holder alive (Micrometer's default reference is weak). */
  private void gauge(String name, AtomicLong value, String description) {
    Gauge.builder(name, value, AtomicLong::get).description(description).strongReference(true).register(registry);
  }

  /** A counter of a total that the pipeline owns and publishes after each drain. */
  private static final class Total {
    private final Counter counter;
    private long last;

    Total(MeterRegistry registry, String name, String description) {
      counter = Counter.builder(name).description(description).register(registry);
    }

    void set(long total) {
      counter.increment(total - last);
      last = total;
    }
  }

  /** The tracer's counters, read from its per-CPU map at each scrape. */
  void tracer(Tracer tracer) {
    kernelCounter("braid.span.events.lost", tracer, t -> t.stats().eventsLost(), "span events lost (starts, hand-offs): the tracer's ring buffer was full");
    kernelCounter(
        "braid.span.ends.kept", tracer, t -> t.stats().endsKept(), "span ends that found the tracer's ring buffer full, kept aside and read with their exact time");
    kernelCounter(
        "braid.goroutines.unspanned", tracer, t -> t.stats().goroutineMapFull(),
        "goroutines that got no span, inherited or their own, because braid's goroutine state map (65536) was full");
    kernelCounter("braid.probe.read.failures", tracer, t -> t.stats().readFailed(), "probe reads of process memory that failed");
    kernelCounter("braid.traceparent.propagated", tracer, t -> t.stats().propagated(), "outgoing requests given a traceparent");
    kernelCounter("braid.select.unpaired", tracer, t -> t.stats().selectTooBig(), "buffered select operations not paired: more cases than the probes search");
    kernelCounter(
        "braid.traces_ctx.refused", tracer, t -> t.stats().contextMapRefused(),
        "traces_ctx_v1 updates and deletes the kernel refused: a refused update leaves the thread no span until its next switch, a refused delete is tried again then");
    kernelCounter("braid.app_spans.unfollowed", tracer, t -> t.stats().appSpansFull(), "application spans not followed: braid's maps were full");
    kernelCounter(
        "braid.auto_sdk.spans.missed", tracer, t -> t.stats().autoSdk().missed(), "--auto-sdk: spans that stayed no-ops: their program made them before braid turned its SDK on");
    kernelCounter(
        "braid.auto_sdk.spans.unknown", tracer, t -> t.stats().autoSdk().unknown(),
        "--auto-sdk: span ends without a context from braid, not exported: the span started before braid, or braid's map of open spans forgot it");
    kernelCounter(
        "braid.auto_sdk.spans.lost", tracer, t -> t.stats().autoSdk().lost(), "--auto-sdk: spans not exported: another thread's probe held the CPU's scratch buffer");
    kernelCounter("braid.auto_sdk.processes", tracer, t -> t.stats().autoSdk().processes(), "--auto-sdk: processes braid became the OpenTelemetry SDK of");
    kernelCounter(
        "braid.auto_sdk.failures", tracer, t -> t.stats().autoSdk().failed(), "--auto-sdk: processes whose switch to braid's SDK could not be turned on (logged)");
    Gauge.builder("braid.probes.attached", tracer, Tracer::attachedProbes)
        .description("uprobes attached now; a binary no process has run for 10 s has its probes detached")
        .register(registry);
    Gauge.builder("braid.binaries.probed", tracer, Tracer::probedBinaries).description("Go binaries probed now").register(registry);
    KernelReading<Tracer> entries = reading(tracer, t -> t.tracesContextMap().keys().size());
    Gauge.builder("braid.traces_ctx.entries", entries, KernelReading::value)
        .description("entries in the pinned traces_ctx_v1 map (all writers')")
        .register(registry);
  }

  void sampler(Sampler sampler) {
    kernelCounter("braid.samples.lost", sampler, Sampler::lostSamples, "CPU samples lost: the sampler's ring buffer was full");
    kernelCounter(
        "braid.samples.goroutine.unreadable", sampler, Sampler::goroutineReadFailures, "samples whose running goroutine could not be read (--ctx-source sample)");
  }

  private <T> void kernelCounter(String name, T source, ToDoubleFunction<T> read, String description) {
    FunctionCounter.builder(name, reading(source, read), KernelReading::value).description(description).register(registry);
  }

  private <T> KernelReading<T> reading(T source, ToDoubleFunction<T> read) {
    KernelReading<T> reading = new KernelReading<>(source, read);
    synchronized (kernelReadings) {
      kernelReadings.add(reading);
    }
    return reading;
  }

  /**
   * Takes a last reading of everything the kernel keeps, before the tracer and sampler close:
   * from then on the metrics keep those values (a final scrape, or a caller that reads them
   * once the daemon has stopped, sees the totals rather than an error).
   */
  void freezeKernelReadings() {
    synchronized (kernelReadings) {
      RuntimeException failed = null;
      for (KernelReading<?> r : kernelReadings) {
        try {
          r.freeze();
        } catch (RuntimeException e) {
          failed = failed == null ? e : failed;
        }
      }
      if (failed != null) {
        throw failed;
      }
    }
  }

  /** Published by the pipeline thread after each drain. */
  void pipeline(Correlator c, int traced) {
    openSpans.set(c.openSpans());
    waitingSamples.set(c.waitingSamples());
    processes.set(traced);
    linkPairs.set(c.linkPairs());
    linksDropped.set(c.droppedLinks());
    linksLate.set(c.lateLinks());
    spansReplaced.set(c.replacedSpans());
    replacedSpanLinks.set(c.replacedSpanLinks());
    applicationRootLinks.set(c.applicationRootLinks());
    lateVerdicts.set(c.lateVerdicts());
    apiSpans.set(c.apiSpans());
    apiSpansCut.set(c.apiSpansCut());
    spansUnlinked.set(c.spansReleasedUnlinked());
    linksPending.set(c.pendingLinkSpans());
    spanEndsLost.set(c.lostEnds());
    spansExpired.set(c.expiredSpans());
    spanStartsLost.set(c.unmatchedEnds());
  }

  /** A value read from the kernel on demand until frozen, then the last value read. */
  private static final class KernelReading<T> {
    private final T source;
    private final ToDoubleFunction<T> read;
    private volatile boolean frozen;
    private volatile double last;

    KernelReading(T source, ToDoubleFunction<T> read) {
      this.source = source;
      this.read = read;
    }

    synchronized double value() {
      if (!frozen) {
        last = read.applyAsDouble(source);
      }
      return last;
    }

    /** Keeps the last value even when this reading fails: the daemon is closing regardless. */
    synchronized void freeze() {
      try {
        value();
      } finally {
        frozen = true;
      }
    }
  }
}
