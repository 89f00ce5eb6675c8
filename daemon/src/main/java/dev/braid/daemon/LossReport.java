package dev.braid.daemon;

import dev.braid.tracer.Tracer;
import java.lang.System.Logger.Level;

/**
 * Says what the probes and the sampler could not deliver, with the reason and the fix: each kind
 * of loss when it first happens, then at most once a minute while it goes on, with the count
 * since it was last said. Nothing is dropped silently. Not thread-safe: the pipeline thread calls
 * it.
 */
final class LossReport {
  private static final System.Logger LOG = System.getLogger(LossReport.class.getName());
  private static final long EVERY_NANOS = 60_000_000_000L;

  private final int spanBuffer;
  private final Loss ringBufferFull = new Loss();
  private long keptReported;
  private final Loss goroutines = new Loss();
  private final Loss samples = new Loss();
  private final Loss headers = new Loss();
  private final Loss refused = new Loss();

  /** @param spanBuffer bytes of the span ring buffer (--span-buffer) */
  LossReport(int spanBuffer) {
    this.spanBuffer = spanBuffer;
  }

  void check(Tracer.Stats spans, long lostSamples) {
    long now = System.nanoTime();
    long full = ringBufferFull.due(spans.ringBufferFull(), now);
    if (full > 0) {
      long kept = spans.endsKept() - keptReported;
      keptReported = spans.endsKept();
      long lost = Math.max(0, full - kept); // the two counters are read one after the other
      LOG.log(Level.WARNING, "span ring buffer full: " + lost + " span events lost (starts, channel hand-offs), " + kept
          + " span ends kept aside with their time; the probes wrote more than " + (spanBuffer >> 10)
          + " KiB between two of braid's reads, 100 ms apart. Raise --span-buffer (to " + (spanBuffer >> 9) + "K, twice this)");
    }
    long without = goroutines.due(spans.goroutineMapFull(), now);
    if (without > 0) {
      LOG.log(Level.WARNING, "goroutine state map full: more than 65536 goroutines held a span at once (or kept an HTTP/1.1 connection open after a request); " + without
          + " goroutines or spans went without one (their samples show no span, never a wrong one). It is braid's fixed limit");
    }
    long notShown = refused.due(spans.contextMapRefused(), now);
    if (notShown > 0) {
      LOG.log(Level.WARNING, "the kernel refused " + notShown + " updates or deletes of traces_ctx_v1 (a map lock it would not wait for, or no free LRU node):"
          + " a refused update deletes the thread's entry instead (no span until its next switch, never the one it showed before);"
          + " a refused delete leaves the entry until the thread's next switch tries again (an exited thread's, until its process exits)");
    }
    long unsampled = samples.due(lostSamples, now);
    if (unsampled > 0) {
      LOG.log(Level.WARNING, "sample ring buffer full: " + unsampled + " CPU samples lost; lower --sample-hz");
    }
    long unsearched = headers.due(spans.headersTooMany(), now);
    if (unsearched > 0) {
      LOG.log(Level.WARNING, unsearched + " requests had more headers than braid searches for traceparent (over ~100): their traceparent may have been missed");
    }
  }

  /** One counter's reports: what it counted since the last one, once that is due. */
  private static final class Loss {
    private long reported;
    private long lastReport = System.nanoTime() - EVERY_NANOS;

    /** How much to report now: 0 if nothing new, or if the last report is less than a minute old. */
    long due(long total, long now) {
      if (total <= reported || now - lastReport < EVERY_NANOS) {
        return 0;
      }
      long since = total - reported;
      reported = total;
      lastReport = now;
      return since;
    }
  }
}
