package dev.braid.correlator;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Channel links that wait for their span to end, and ended spans that wait for a receiver: a
 * span whose goroutine put a value into a channel's buffer may end before anyone takes it out,
 * and only the receive says which span the link goes to. Bounded and expiring (Caffeine): what
 * leaves early is counted, and a held span still goes out, without the links it missed.
 *
 * <p>Not thread-safe: the correlator's thread runs everything, listeners included.
 */
final class HandOffLinks {
  /** How long links wait for a span that is open: as long as braid keeps a span open. */
  static final Duration OPEN_WAIT = Duration.ofNanos(Correlator.MAX_OPEN_NANOS);
  /** How long an ended span waits for the receivers of the values it left in buffers. */
  static final Duration HELD_WAIT = Duration.ofSeconds(30);
  /** Links (and spans) the store holds at most: ~20 MiB. */
  static final long MAX_PENDING = 200_000;

  private final Cache<SpanKey, Pending> pending;
  private final Consumer<CompletedSpan> release;
  private long linksExpired;
  private long linksOverflowed;
  private long heldExpired;
  private long heldOverflowed;

  /** What waits for one span. */
  private static final class Pending {
    final List<SpanLink> links = new ArrayList<>(2);
    int dropped; // links beyond CompletedSpan.MAX_LINKS
    int queued; // values it put into buffers that no receiver has taken yet
    CompletedSpan ended; // set while the span waits for those receivers

    CompletedSpan release() {
      return ended.withLinks(links, dropped);
    }
  }

  /**
   * @param release takes a held span once its receivers came, or its wait ran out
   */
  HandOffLinks(Ticker ticker, Consumer<CompletedSpan> release) {
    this.release = release;
    this.pending =
        Caffeine.newBuilder()
            .maximumWeight(MAX_PENDING)
            .<SpanKey, Pending>weigher((k, p) -> 1 + p.links.size())
            .expireAfter(
                new Expiry<SpanKey, Pending>() {
                  @Override
                  public long expireAfterCreate(SpanKey key, Pending p, long now) {
                    return OPEN_WAIT.toNanos();
                  }

                  @Override
                  public long expireAfterUpdate(SpanKey key, Pending p, long now, long current) {
                    return p.ended != null ? HELD_WAIT.toNanos() : current;
                  }

                  @Override
                  public long expireAfterRead(SpanKey key, Pending p, long now, long current) {
                    return current;
                  }
                })
            .ticker(ticker)
            .executor(Runnable::run)
            .removalListener(this::removed)
            .build();
  }

  /** A link for a span that has not ended, or is held. */
  void add(SpanKey span, SpanLink link) {
    Pending p = pending.get(span, k -> new Pending());
    if (p.links.size() < CompletedSpan.MAX_LINKS) {
      p.links.add(link);
      pending.put(span, p); // weighs it again
    } else {
      p.dropped++;
    }
  }

  /** The span's goroutine left a value in a buffer: the span's end waits for its receiver. */
  void queued(SpanKey span) {
    pending.get(span, k -> new Pending()).queued++;
  }

  /** A value the span queued was received (its link, if any, was added first). */
  void dequeued(SpanKey span) {
    Pending p = pending.getIfPresent(span);
    if (p == null || p.queued == 0) {
      return;
    }
    p.queued--;
    if (p.queued == 0 && p.ended != null) {
      pending.invalidate(span);
      release.accept(p.release());
    }
  }

  /** Whether an ended span is held here. */
  boolean holds(SpanKey span) {
    Pending p = pending.getIfPresent(span);
    return p != null && p.ended != null;
  }

  /**
   * The span ended: it, with its links, or null when it is held for receivers still to come (it
   * goes to the release listener then).
   */
  CompletedSpan ended(SpanKey key, CompletedSpan span) {
    Pending p = pending.asMap().isEmpty() ? null : pending.getIfPresent(key); // no hand-off pending: the usual case
    if (p == null) {
      return span;
    }
    if (p.queued > 0) {
      p.ended = span;
      pending.put(key, p); // now it waits HELD_WAIT
      return null;
    }
    pending.invalidate(key);
    return span.withLinks(p.links, p.dropped);
  }

  /** A process exited: no receiver of its values will come; its held spans go out now. */
  void releaseProcess(int pid) {
    for (var e : List.copyOf(pending.asMap().entrySet())) {
      if (e.getKey().pid() == pid && e.getValue().ended != null) {
        heldExpired++;
        pending.invalidate(e.getKey());
        release.accept(e.getValue().release());
      }
    }
  }

  /** braid stops: every held span goes out now, without the links it still waited for. */
  void releaseAll() {
    for (var e : pending.asMap().entrySet()) {
      if (e.getValue().ended != null) {
        heldExpired++;
        release.accept(e.getValue().release());
      }
    }
    pending.invalidateAll();
  }

  /** Runs what expired; called at each flush. */
  void cleanUp() {
    pending.cleanUp();
  }

  /** Held spans and spans with links waiting. */
  long size() {
    return pending.estimatedSize();
  }

  /** Links lost because their span did not end within {@link #OPEN_WAIT}, or when braid stopped. */
  long linksExpired() {
    return linksExpired;
  }

  /** Links lost because more than {@link #MAX_PENDING} waited. */
  long linksOverflowed() {
    return linksOverflowed;
  }

  /** Spans that went out without a receiver's link: none came within {@link #HELD_WAIT}. */
  long heldExpired() {
    return heldExpired;
  }

  /** Spans that went out early without a receiver's link: the store was full. */
  long heldOverflowed() {
    return heldOverflowed;
  }

  private void removed(SpanKey key, Pending p, RemovalCause cause) {
    if (p == null || !cause.wasEvicted()) {
      return;
    }
    boolean expired = cause == RemovalCause.EXPIRED;
    if (p.ended != null) {
      if (expired) {
        heldExpired++;
      } else {
        heldOverflowed++;
      }
      release.accept(p.release());
    } else if (expired) {
      linksExpired += p.links.size();
    } else {
      linksOverflowed += p.links.size();
    }
  }
}
