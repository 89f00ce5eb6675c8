package dev.braid.correlator.conformance;

import java.util.List;

/** The suite's verdict on one writer: every check, as text for people and JSON for tools. */
public record Report(String writer, List<CheckResult> checks) {
  public Report {
    checks = List.copyOf(checks);
  }

  public boolean passed() {
    return checks.stream().allMatch(CheckResult::passed);
  }

  /** One line a check: pass/FAIL, clause, check, figure; then the verdict. */
  public String text() {
    StringBuilder b = new StringBuilder("traces_ctx_v1 conformance of: ").append(writer).append('\n');
    for (CheckResult c : checks) {
      b.append(String.format("  %-4s %-5s %-52s %s%n", c.passed() ? "pass" : "FAIL", c.clause(), c.check(), c.figure()));
    }
    long failed = checks.stream().filter(c -> !c.passed()).count();
    b.append(failed == 0 ? "all " + checks.size() + " checks passed" : failed + " of " + checks.size() + " checks failed").append('\n');
    return b.toString();
  }

  /** {@code {"writer":..,"passed":..,"checks":[{"clause":..,"check":..,"passed":..,"figure":..}]}} */
  public String json() {
    StringBuilder b = new StringBuilder("{\"writer\":").append(quote(writer)).append(",\"passed\":").append(passed()).append(",\"checks\":[");
    for (int i = 0; i < checks.size(); i++) {
      CheckResult c = checks.get(i);
      b.append(i == 0 ? "" : ",").append("{\"clause\":").append(quote(c.clause())).append(",\"check\":").append(quote(c.check()))
          .append(",\"passed\":").append(c.passed()).append(",\"figure\":").append(quote(c.figure())).append('}');
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
