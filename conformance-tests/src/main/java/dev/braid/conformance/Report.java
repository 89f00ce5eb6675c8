package dev.braid.conformance;

import java.util.List;

/**
 * The suite's verdict on one writer: every check, as text for people and JSON for tools, and the
 * checks it could not run (on a writer it did not start). A writer is conformant when every check
 * of the contract level passes; braid's profile is reported beside it.
 */
public record Report(String writer, List<CheckResult> checks, List<String> notRun) {
  private static final String FIGURE_INDENT = " ".repeat(22);

  public Report {
    checks = List.copyOf(checks);
    notRun = List.copyOf(notRun);
  }

  /** Conformant: every check of the contract level (what OTEP 4855 requires) passed. */
  public boolean conformant() {
    return allPassed(CheckResult.Level.CONTRACT);
  }

  /** Every check of braid's stricter profile passed too. */
  public boolean profilePassed() {
    return allPassed(CheckResult.Level.PROFILE);
  }

  /** Every check of the level passed, and there was one: a run that ended early proves nothing of the rest. */
  private boolean allPassed(CheckResult.Level level) {
    List<CheckResult> of = checks.stream().filter(c -> c.level() == level).toList();
    return !of.isEmpty() && of.stream().allMatch(CheckResult::passed);
  }

  /**
   * One line a check: pass, FAIL or ???? (inconclusive), level, clause, check, figure (on lines of
   * its own when long); then the verdict of each level.
   */
  public String text() {
    StringBuilder b = new StringBuilder("traces_ctx_v1 conformance of: ").append(writer).append('\n');
    for (CheckResult c : checks) {
      String head = String.format("  %-4s %-8s %-5s %-52s", mark(c), c.level().label(), c.clause(), c.check());
      if (head.length() + c.figure().length() < 130 && !c.figure().contains("\n")) {
        b.append(head).append(' ').append(c.figure()).append('\n');
      } else {
        b.append(head.stripTrailing()).append('\n');
        c.figure().lines().forEach(line -> b.append(FIGURE_INDENT).append(line).append('\n'));
      }
    }
    notRun.forEach(n -> b.append("  not run: ").append(n).append('\n'));
    b.append("contract (OTEP 4855): ").append(tally(CheckResult.Level.CONTRACT)).append(conformant() ? ": conformant" : ": NOT conformant").append('\n');
    b.append("braid profile:        ").append(tally(CheckResult.Level.PROFILE)).append('\n');
    return b.toString();
  }

  private static String mark(CheckResult c) {
    return switch (c.verdict()) {
      case PASSED -> "pass";
      case FAILED -> "FAIL";
      case INCONCLUSIVE -> "????";
    };
  }

  /** "12 of 14 checks passed (1 failed, 1 inconclusive)". */
  private String tally(CheckResult.Level level) {
    List<CheckResult> of = checks.stream().filter(c -> c.level() == level).toList();
    long passed = of.stream().filter(CheckResult::passed).count();
    long inconclusive = of.stream().filter(c -> c.verdict() == CheckResult.Verdict.INCONCLUSIVE).count();
    long failed = of.size() - passed - inconclusive;
    String rest = failed + inconclusive == 0 ? "" : " (" + (failed > 0 ? failed + " failed" : "") + (failed > 0 && inconclusive > 0 ? ", " : "")
        + (inconclusive > 0 ? inconclusive + " inconclusive" : "") + ")";
    return passed + " of " + of.size() + " checks passed" + rest;
  }

  /**
   * {@code {"writer":..,"conformant":..,"profile_passed":..,"checks":[{"clause":..,"level":"contract"|"profile","check":..,
   * "passed":..,"verdict":"passed"|"failed"|"inconclusive","figure":..[,"counts":{..}]}],"not_run":[..]}}
   */
  public String json() {
    StringBuilder b = new StringBuilder("{\"writer\":").append(quote(writer)).append(",\"conformant\":").append(conformant())
        .append(",\"profile_passed\":").append(profilePassed()).append(",\"checks\":[");
    for (int i = 0; i < checks.size(); i++) {
      CheckResult c = checks.get(i);
      b.append(i == 0 ? "" : ",").append("{\"clause\":").append(quote(c.clause())).append(",\"level\":").append(quote(c.level().label()))
          .append(",\"check\":").append(quote(c.check())).append(",\"passed\":").append(c.passed())
          .append(",\"verdict\":").append(quote(c.verdict().name().toLowerCase(java.util.Locale.ROOT))).append(",\"figure\":").append(quote(c.figure()));
      if (!c.counts().isEmpty()) {
        b.append(",\"counts\":{");
        c.counts().forEach((name, n) -> b.append(b.charAt(b.length() - 1) == '{' ? "" : ",").append(quote(name)).append(':').append(n));
        b.append('}');
      }
      b.append('}');
    }
    b.append("],\"not_run\":[");
    for (int i = 0; i < notRun.size(); i++) {
      b.append(i == 0 ? "" : ",").append(quote(notRun.get(i)));
    }
    return b.append("]}").toString();
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        default -> {
          if (ch < 0x20) {
            b.append(String.format("\\u%04x", (int) ch));
          } else {
            b.append(ch);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
