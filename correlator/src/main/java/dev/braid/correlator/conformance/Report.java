package dev.braid.correlator.conformance;

import java.util.List;

/**
 * The suite's verdict on one writer: every check, as text for people and JSON for tools, and the
 * checks it could not run (on a writer it did not start).
 */
public record Report(String writer, List<CheckResult> checks, List<String> notRun) {
  private static final String FIGURE_INDENT = " ".repeat(13);

  public Report {
    checks = List.copyOf(checks);
    notRun = List.copyOf(notRun);
  }

  public boolean passed() {
    return checks.stream().allMatch(CheckResult::passed);
  }

  /** One line a check: pass/FAIL, clause, check, figure (on lines of its own when long); then the verdict. */
  public String text() {
    StringBuilder b = new StringBuilder("traces_ctx_v1 conformance of: ").append(writer).append('\n');
    for (CheckResult c : checks) {
      String head = String.format("  %-4s %-5s %-52s", c.passed() ? "pass" : "FAIL", c.clause(), c.check());
      if (head.length() + c.figure().length() < 120 && !c.figure().contains("\n")) {
        b.append(head).append(' ').append(c.figure()).append('\n');
      } else {
        b.append(head.stripTrailing()).append('\n');
        c.figure().lines().forEach(line -> b.append(FIGURE_INDENT).append(line).append('\n'));
      }
    }
    notRun.forEach(n -> b.append("  not run: ").append(n).append('\n'));
    long failed = checks.stream().filter(c -> !c.passed()).count();
    b.append(failed == 0 ? "all " + checks.size() + " checks passed" : failed + " of " + checks.size() + " checks failed").append('\n');
    return b.toString();
  }

  /** {@code {"writer":..,"passed":..,"checks":[{"clause":..,"check":..,"passed":..,"figure":..[,"counts":{..}]}],"not_run":[..]}} */
  public String json() {
    StringBuilder b = new StringBuilder("{\"writer\":").append(quote(writer)).append(",\"passed\":").append(passed()).append(",\"checks\":[");
    for (int i = 0; i < checks.size(); i++) {
      CheckResult c = checks.get(i);
      b.append(i == 0 ? "" : ",").append("{\"clause\":").append(quote(c.clause())).append(",\"check\":").append(quote(c.check()))
          .append(",\"passed\":").append(c.passed()).append(",\"figure\":").append(quote(c.figure()));
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
