package dev.braid.correlator.conformance;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One check of the conformance suite against a writer of traces_ctx_v1.
 *
 * @param clause the clause of spec/traces_ctx_v1.md it checks, such as {@code 1.3}
 * @param check what it checks, in a few words
 * @param passed whether the writer keeps the clause
 * @param figure what was seen: a count, a value, or why it failed
 * @param counts the figure's numbers by name, for tools (the audit's right, wrong, stale, missing)
 */
public record CheckResult(String clause, String check, boolean passed, String figure, Map<String, Long> counts) {
  public CheckResult {
    counts = Collections.unmodifiableMap(new LinkedHashMap<>(counts));
  }

  public static CheckResult pass(String clause, String check, String figure) {
    return of(clause, check, true, figure);
  }

  public static CheckResult fail(String clause, String check, String figure) {
    return of(clause, check, false, figure);
  }

  /** Passes when {@code ok}, with the figure either way. */
  public static CheckResult of(String clause, String check, boolean ok, String figure) {
    return new CheckResult(clause, check, ok, figure, Map.of());
  }

  /** The same, with the figure's numbers by name. */
  public CheckResult withCounts(Map<String, Long> counts) {
    return new CheckResult(clause, check, passed, figure, counts);
  }
}
