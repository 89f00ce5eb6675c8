package dev.braid.correlator.export;

import com.google.protobuf.Message;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Sends one signal's requests in the background, so that a slow or absent collector never holds
 * the pipeline up. Requests wait in a bounded queue; while the collector is down the oldest
 * waiting one is dropped when a new one finds the queue full. A retryable failure is retried with exponential
 * backoff (with jitter) until it succeeds or is pushed out; a final one is dropped. Everything
 * dropped or rejected is counted, in items (spans, samples), in the metrics.
 */
public final class SignalExporter implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SignalExporter.class.getName());
  static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
  /** As OpenTelemetry's SDK exporters: data flows again at most this long after the collector is back. */
  static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  /** Between the tries of the grace period when braid stops. */
  static final Duration CLOSING_BACKOFF = Duration.ofMillis(200);

  private final OtlpEndpoint.Signal signal;
  private final OtlpTransport transport;
  private final int capacity;
  private final Deque<Pending> queue = new ArrayDeque<>();
  private final Counter sent;
  private final Counter dropped;
  private final Counter rejected;
  private final Counter failures;
  private final Thread sender;
  private Pending inFlight;
  private boolean closing;
  private boolean closingWoken;
  private long lastWarning;
  /** Items dropped since the queue last overflowed; -1 while it has room. */
  private long droppedWhileFull = -1;

  private record Pending(Message request, int items) {}

  /** @param capacity requests held while the collector cannot take them */
  public SignalExporter(OtlpEndpoint.Signal signal, OtlpTransport transport, int capacity, MeterRegistry metrics) {
    this.signal = signal;
    this.transport = transport;
    this.capacity = capacity;
    String unit = signal == OtlpEndpoint.Signal.TRACES ? "spans" : "samples";
    this.sent = Counter.builder("braid.export.items").tag("signal", signal.label()).tag("outcome", "sent").baseUnit(unit).register(metrics);
    this.dropped = Counter.builder("braid.export.items").tag("signal", signal.label()).tag("outcome", "dropped").baseUnit(unit).register(metrics);
    this.rejected = Counter.builder("braid.export.items").tag("signal", signal.label()).tag("outcome", "rejected").baseUnit(unit).register(metrics);
    this.failures = Counter.builder("braid.export.failures").tag("signal", signal.label()).description("export attempts that failed").register(metrics);
    metrics.gauge("braid.export.queued.requests", io.micrometer.core.instrument.Tags.of("signal", signal.label()), this, SignalExporter::queued);
    this.sender = Thread.ofPlatform().name("braid-export-" + signal.label()).daemon(true).start(this::run);
  }

  /** Queues {@code request}, which holds {@code items} spans or samples; never blocks. */
  public synchronized void export(Message request, int items) {
    if (closing || items == 0) {
      return;
    }
    if (queue.size() >= capacity) {
      Pending oldest = queue.removeFirst();
      dropped.increment(oldest.items());
      if (droppedWhileFull < 0) {
        // Once per overflow; roomAgain() says how much it cost when it ends.
        LOG.log(Level.WARNING, "the OTLP queue of " + signal.label() + " is full (" + capacity + " requests): the collector is down or takes less than braid sends;"
            + " braid drops the oldest requests and counts their " + unit() + " in braid_export_items_" + unit() + "_total{outcome=\"dropped\"}."
            + " Raise --otlp-queue to ride out longer outages, or give the collector more capacity");
        droppedWhileFull = 0;
      }
      droppedWhileFull += oldest.items();
    }
    queue.addLast(new Pending(request, items));
    notifyAll();
  }

  synchronized int queued() {
    return queue.size();
  }

  private void run() {
    Duration backoff = FIRST_BACKOFF;
    while (true) {
      Pending next;
      synchronized (this) {
        while (queue.isEmpty() && !closing) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (queue.isEmpty()) {
          return;
        }
        next = queue.removeFirst();
        inFlight = next;
      }
      try {
        long partlyRejected = transport.send(signal, next.request());
        done();
        sent.increment(next.items() - Math.min(partlyRejected, next.items()));
        roomAgain();
        if (partlyRejected > 0) {
          rejected.increment(partlyRejected);
          warn("the collector rejected " + partlyRejected + " of " + next.items() + " " + unit());
        }
        backoff = FIRST_BACKOFF;
      } catch (ExportFailure e) {
        failures.increment();
        if (!e.retryable()) {
          done();
          rejected.increment(next.items());
          warn("the collector refused " + next.items() + " " + unit() + ", which are dropped: " + e.getMessage());
          continue;
        }
        warn(signal.label() + " export failed, retrying in " + backoff.toMillis() + " ms: " + e.getMessage());
        if (!backOff(closing() ? CLOSING_BACKOFF : jittered(backoff))) {
          return;
        }
        synchronized (this) {
          queue.addFirst(next); // first again; the next request that finds the queue full may push it out
          inFlight = null;
        }
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
      }
    }
  }

  private synchronized void done() {
    inFlight = null;
  }

  /** Ends an overflow once the queue is down to half: says what it dropped meanwhile. */
  private synchronized void roomAgain() {
    if (droppedWhileFull >= 0 && queue.size() <= capacity / 2) {
      LOG.log(Level.WARNING, "the OTLP queue of " + signal.label() + " has room again; " + droppedWhileFull + " " + unit() + " were dropped while it was full");
      droppedWhileFull = -1;
    }
  }

  private static Duration jittered(Duration d) {
    return Duration.ofMillis((long) (d.toMillis() * ThreadLocalRandom.current().nextDouble(0.8, 1.2)));
  }

  /**
   * Waits before a retry, or less: {@link #close} wakes the sender for a last try at once.
   * Returns false when interrupted (close gave up waiting).
   */
  private synchronized boolean backOff(Duration d) {
    long until = System.nanoTime() + d.toNanos();
    try {
      for (long left = d.toNanos(); left > 0 && !closingWoken; left = until - System.nanoTime()) {
        wait(Math.max(1, left / 1_000_000));
      }
      closingWoken = false;
      return true;
    } catch (InterruptedException e) {
      return false;
    }
  }

  private synchronized boolean closing() {
    return closing;
  }

  private String unit() {
    return signal == OtlpEndpoint.Signal.TRACES ? "spans" : "samples";
  }

  /** At most one warning every 10 s: a collector that is down must not flood the log. */
  private synchronized void warn(String message) {
    long now = System.nanoTime();
    if (now - lastWarning > Duration.ofSeconds(10).toNanos() || lastWarning == 0) {
      lastWarning = now;
      LOG.log(Level.WARNING, message);
    }
  }

  /**
   * Sends what is queued within {@code grace}, then gives up: what is left is counted as dropped.
   */
  public void close(Duration grace) {
    synchronized (this) {
      closing = true;
      closingWoken = true;
      notifyAll();
    }
    try {
      sender.join(grace);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sender.interrupt();
    try {
      sender.join(Duration.ofSeconds(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      int left = queue.stream().mapToInt(Pending::items).sum() + (inFlight == null ? 0 : inFlight.items());
      if (left > 0) {
        dropped.increment(left);
        LOG.log(Level.WARNING, "stopping with " + left + " " + unit() + " the collector did not take; they are dropped");
      }
      queue.clear();
      inFlight = null;
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(5));
  }
}
