package dev.braid.tracer;

import dev.braid.bpf.BpfLink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closes probes' links on threads of its own, several at once. The kernel takes about 100 ms to
 * unregister one uprobe (it waits for a grace period; measured on 6.18 under load), so a binary's
 * ~25 probes closed one by one would hold the caller for seconds. Grace periods of concurrent
 * unregistrations overlap.
 */
final class Detacher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Detacher.class.getName());
  private static final int THREADS = 8;

  private final ExecutorService pool = Executors.newFixedThreadPool(THREADS, Thread.ofPlatform().name("braid-detach-", 0).daemon().factory());
  private final AtomicInteger pending = new AtomicInteger();

  /** Closes {@code links} in the background, then runs {@code then}; a failure is logged, and the rest still go. */
  void later(List<BpfLink> links, Runnable then) {
    if (links.isEmpty()) {
      then.run();
      return;
    }
    pending.addAndGet(links.size());
    AtomicInteger left = new AtomicInteger(links.size());
    for (BpfLink link : links) {
      pool.execute(() -> {
        try {
          link.close();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "a probe could not be detached", e);
        } finally {
          pending.decrementAndGet();
          if (left.decrementAndGet() == 0) {
            then.run();
          }
        }
      });
    }
  }

  /** Closes {@code links} and returns once all are; the first failure is thrown, with the others suppressed. */
  void now(List<BpfLink> links) {
    List<Future<?>> closing = new ArrayList<>(links.size());
    for (BpfLink link : links) {
      closing.add(pool.submit(link::close));
    }
    RuntimeException first = null;
    for (Future<?> f : closing) {
      try {
        f.get();
      } catch (ExecutionException e) {
        RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        if (first == null) {
          first = cause;
        } else {
          first.addSuppressed(cause);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while detaching probes", e);
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** Links handed to {@link #later} and not closed yet. */
  int pending() {
    return pending.get();
  }

  /** Waits for the links handed over so far, up to two minutes. */
  @Override
  public void close() {
    pool.shutdown();
    try {
      if (!pool.awaitTermination(2, TimeUnit.MINUTES)) {
        LOG.log(System.Logger.Level.WARNING, pending.get() + " probes still detaching after 2 minutes; the kernel detaches them when braid exits");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
