package dev.braid.daemon;

import dev.braid.tracer.Tracer;
import java.lang.System.Logger.Level;

/**
 * Says, at most once a minute, what the probes and the sampler could not deliver, with the
 * reason. Nothing is dropped silently. Not thread-safe: the pipeline thread calls it.
 */
final class LossReport {
  private static final System.Logger LOG = System.getLogger(LossReport.class.getName());
  private static final long EVERY_NANOS = 60_000_000_000L;

  private final int spanBuffer;
  private Tracer.Stats reportedSpans = Tracer.Stats.NONE;
  private long reportedSamples;
  private long lastReport = System.nanoTime() - EVERY_NANOS;

  /** @param spanBuffer bytes of the span ring buffer (--span-buffer) */
  LossReport(int spanBuffer) {
    this.spanBuffer = spanBuffer;
  }

  void check(Tracer.Stats spans, long lostSamples) {
    long now = System.nanoTime();
    if (now - lastReport < EVERY_NANOS) {
      return;
    }
    long events = spans.ringBufferFull() - reportedSpans.ringBufferFull();
    long full = spans.goroutineMapFull() - reportedSpans.goroutineMapFull();
    long samples = lostSamples - reportedSamples;
    long headers = spans.headersTooMany() - reportedSpans.headersTooMany();
    if (events > 0) {
      LOG.log(Level.WARNING, "span ring buffer full: " + events + " span events lost (spans, their ends, channel hand-offs): the probes wrote more than "
          + (spanBuffer >> 10) + " KiB between two of braid's reads, 100 ms apart; raise --span-buffer (to " + (spanBuffer >> 9) + "K, twice this)");
    }
    if (full > 0) {
      LOG.log(Level.WARNING, "goroutine state maps full: more than 65536 goroutines held a span at once; " + full
          + " goroutines or spans went without (their samples show no span, none a wrong one). braid's limit: it cannot be raised");
    }
    if (samples > 0) {
      LOG.log(Level.WARNING, "sample ring buffer full: " + samples + " CPU samples lost; lower --sample-hz");
    }
    if (headers > 0) {
      LOG.log(Level.WARNING, headers + " requests had more headers than braid searches for traceparent (over ~100): their traceparent may have been missed");
    }
    if (events > 0 || full > 0 || samples > 0 || headers > 0) {
      lastReport = now;
      reportedSpans = spans;
      reportedSamples = lostSamples;
    }
  }
}
