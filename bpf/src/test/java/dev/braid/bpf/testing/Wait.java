package dev.braid.bpf.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waiting for an event instead of for a time: how long something takes depends on the machine
 * and on what else it runs, so tests poll for what they wait for, with a bound.
 */
public final class Wait {
  private Wait() {}

  /** Polls {@code condition} every {@code every} until it holds or {@code limit} passed; whether it holds. */
  public static boolean until(Duration limit, Duration every, BooleanSupplier condition) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(every);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return condition.getAsBoolean();
      }
    }
    return true;
  }
}
