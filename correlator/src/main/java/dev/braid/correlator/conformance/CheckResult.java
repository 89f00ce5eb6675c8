package dev.braid.correlator.conformance;

/**
 * One check of the conformance suite against a writer of traces_ctx_v1.
 *
 * @param clause the clause of spec/traces_ctx_v1.md it checks, such as {@code 1.3}
 * @param check what it checks, in a few words
 * @param passed whether the writer keeps the clause
 * @param figure what was seen: a count, a value, or why it failed
 */
public record CheckResult(String clause, String check, boolean passed, String figure) {
  public static CheckResult pass(String clause, String check, String figure) {
    return new CheckResult(clause, check, true, figure);
  }

  public static CheckResult fail(String clause, String check, String figure) {
    return new CheckResult(clause, check, false, figure);
  }

  /** Passes when {@code ok}, with the figure either way. */
  public static CheckResult of(String clause, String check, boolean ok, String figure) {
    return new CheckResult(clause, check, ok, figure);
  }
}
