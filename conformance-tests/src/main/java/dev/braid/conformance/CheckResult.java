package dev.braid.conformance;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One check of the conformance suite against a writer of traces_ctx_v1.
 *
 * @param clause the clause of spec/traces_ctx_v1.md it checks, such as {@code 1.3}
 * @param level whether OTEP 4855 requires it, or only braid's profile of it
 * @param check what it checks, in a few words
 * @param verdict passed, failed, or inconclusive (too little came to judge by)
 * @param figure what was seen: a count, a value, or why it failed
 * @param counts the figure's numbers by name, for tools (the audit's right, wrong, stale, missing)
 */
public record CheckResult(String clause, Level level, String check, Verdict verdict, String figure, Map<String, Long> counts) {
  /** What a check holds a writer to. */
  public enum Level {
    /** What OTEP 4855 requires: a writer that passes every such check is conformant. */
    CONTRACT,
    /** A stricter choice of braid's, marked "braid profile" in spec/traces_ctx_v1.md: reported beside the contract. */
    PROFILE;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public enum Verdict {
    PASSED,
    FAILED,
    /** The check saw too little to judge by (most requests unexported, say): not passed, not proven wrong. */
    INCONCLUSIVE
  }

  public CheckResult {
    counts = Collections.unmodifiableMap(new LinkedHashMap<>(counts));
  }

  public boolean passed() {
    return verdict == Verdict.PASSED;
  }

  public static CheckResult pass(String clause, String check, String figure) {
    return of(clause, check, true, figure);
  }

  public static CheckResult fail(String clause, String check, String figure) {
    return of(clause, check, false, figure);
  }

  /** A contract check that passes when {@code ok}, with the figure either way. */
  public static CheckResult of(String clause, String check, boolean ok, String figure) {
    return new CheckResult(clause, Level.CONTRACT, check, ok ? Verdict.PASSED : Verdict.FAILED, figure, Map.of());
  }

  /** The same check, held to braid's profile only. */
  public CheckResult profile() {
    return new CheckResult(clause, Level.PROFILE, check, verdict, figure, counts);
  }

  /** The same check, not judged for want of data, with why in its figure. */
  public CheckResult inconclusive() {
    return new CheckResult(clause, level, check, Verdict.INCONCLUSIVE, figure, counts);
  }

  /** A contract check that could not be judged, and why. */
  public static CheckResult inconclusive(String clause, String check, String why) {
    return fail(clause, check, why).inconclusive();
  }

  /** The same, with the figure's numbers by name. */
  public CheckResult withCounts(Map<String, Long> counts) {
    return new CheckResult(clause, level, check, verdict, figure, counts);
  }
}
