package dev.braid.daemon.groundtruth;

import dev.braid.correlator.Batch;
import dev.braid.correlator.SpanLink;
import io.opentelemetry.api.trace.SpanKind;
import java.util.List;
import java.util.function.Predicate;

/**
 * What braid must have handed out before a ground-truth run's load may end. How many samples land
 * in a function, or how many hand-offs happen, in a given time depends on the machine and on what
 * else it runs; a run whose load has lasted its duration goes on until its goal is reached, up to
 * {@link TracedRun#LIMIT}, so that the test judges enough on any machine.
 *
 * @param description what the goal asks for, for messages
 * @param reachedBy whether the run so far reaches it
 */
public record Goal(String description, Predicate<Progress> reachedBy) {
  /** No goal: the load lasts its duration. */
  public static final Goal NONE = new Goal("nothing", progress -> true);

  /**
   * A run so far.
   *
   * @param batches what braid handed out
   * @param entriesSeen the most traces_ctx_v1 entries of the services seen at once
   */
  public record Progress(List<Batch> batches, long entriesSeen) {}

  /** A goal on what braid handed out so far. */
  public static Goal onBatches(String description, Predicate<List<Batch>> reachedBy) {
    return new Goal(description, progress -> reachedBy.test(progress.batches()));
  }

  /** At least one traces_ctx_v1 entry of a service seen while the load ran (a thread showed a span). */
  public static Goal anEntrySeen() {
    return new Goal("a traces_ctx_v1 entry seen", progress -> progress.entriesSeen() > 0);
  }

  /** At least {@code n} samples whose thread ran {@code function} (see {@link TracedRun#holds}). */
  public static Goal samplesIn(String function, int n) {
    return onBatches(n + " samples in " + function,
        batches -> batches.stream().flatMap(b -> b.samples().stream()).filter(s -> TracedRun.holds(s, function)).limit(n).count() >= n);
  }

  /** At least {@code n} server spans of requests for {@code path}. */
  public static Goal serverSpans(String path, int n) {
    return onBatches(n + " server spans of " + path,
        batches -> batches.stream().flatMap(b -> b.spans().stream()).filter(s -> s.kind() == SpanKind.SERVER && path.equals(Attribution.path(s)))
            .limit(n).count() >= n);
  }

  /** At least {@code n} channel hand-offs between spans (each has one sender-side link). */
  public static Goal handOffs(int n) {
    return handOffs(n, "", l -> true);
  }

  /** At least {@code n} channel hand-offs whose sender-side link is {@code what}. */
  public static Goal handOffs(int n, String what, Predicate<SpanLink> kind) {
    return onBatches(n + (what.isEmpty() ? "" : " " + what) + " channel hand-offs",
        batches -> batches.stream().flatMap(b -> b.spans().stream()).flatMap(s -> s.links().stream())
            .filter(l -> l.side() == SpanLink.Side.SENDER && kind.test(l)).limit(n).count() >= n);
  }

  /** This goal and {@code other}. */
  public Goal and(Goal other) {
    return this == NONE ? other : new Goal(description + " and " + other.description, b -> reachedBy.test(b) && other.reachedBy.test(b));
  }
}
