package dev.braid.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A writer is conformant on the contract level alone; braid's profile and inconclusive checks are reported beside it. */
class ReportTest {
  private static final CheckResult PIN = CheckResult.pass("1.1", "pinned at the path", "found");
  private static final CheckResult MODE = CheckResult.fail("1.2", "directory mode 01700", "0700").profile();

  @Test
  void aWriterThatFailsOnlyBraidsProfileIsConformant() throws Exception {
    Report report = new Report("other \"writer\"", List.of(PIN, MODE), List.of("3.5 (the writer was already running)"));

    assertThat(report.conformant()).isTrue();
    assertThat(report.profilePassed()).isFalse();
    assertThat(report.text()).contains("contract (OTEP 4855): 1 of 1 checks passed: conformant", "braid profile:        0 of 1 checks passed (1 failed)");
    JsonNode json = new ObjectMapper().readTree(report.json());
    assertThat(json.get("writer").asText()).isEqualTo("other \"writer\"");
    assertThat(json.get("conformant").asBoolean()).isTrue();
    assertThat(json.get("profile_passed").asBoolean()).isFalse();
    assertThat(json.get("checks")).extracting(c -> c.get("clause").asText() + " " + c.get("level").asText() + " " + c.get("passed").asBoolean() + " " + c.get("verdict").asText())
        .containsExactly("1.1 contract true passed", "1.2 profile false failed");
    assertThat(json.get("not_run").get(0).asText()).isEqualTo("3.5 (the writer was already running)");
  }

  @Test
  void anInconclusiveContractCheckIsNotConformantAndCarriesItsCounts() throws Exception {
    CheckResult audit = CheckResult.pass("3.1", "every sample inside a handler", "judged too few requests").withCounts(Map.of("right", 1200L)).inconclusive();
    Report report = new Report("w", List.of(PIN, audit), List.of());

    assertThat(report.conformant()).isFalse();
    assertThat(report.text()).contains("????", "1 of 2 checks passed (1 inconclusive): NOT conformant");
    JsonNode check = new ObjectMapper().readTree(report.json()).get("checks").get(1);
    assertThat(check.get("passed").asBoolean()).isFalse();
    assertThat(check.get("verdict").asText()).isEqualTo("inconclusive");
    assertThat(check.get("counts").get("right").asLong()).isEqualTo(1200);
  }

  @Test
  void aReportWithoutAnyContractCheckIsNotConformant() {
    assertThat(new Report("w", List.of(MODE.inconclusive()), List.of()).conformant()).isFalse();
  }

  @Test
  void anAuditWithOverFivePerCentOfItsRequestsUnjudgedIsInconclusiveUnlessItAlreadyFailed() {
    assertThat(ExactnessCheck.tooManyUnjudged(50, 1000)).isFalse();
    assertThat(ExactnessCheck.tooManyUnjudged(51, 1000)).isTrue();

    ExactnessAudit.Tally clean = new ExactnessAudit.Tally(true);
    clean.right = 5000;
    CheckResult passed = CheckResult.pass("3.1", "audit", "5000 right");
    assertThat(ExactnessCheck.verdict(passed, clean, false).verdict()).isEqualTo(CheckResult.Verdict.PASSED);
    assertThat(ExactnessCheck.verdict(passed, clean, true).verdict()).isEqualTo(CheckResult.Verdict.INCONCLUSIVE);

    ExactnessAudit.Tally wrong = new ExactnessAudit.Tally(true);
    wrong.right = 5000;
    wrong.wrong = 3;
    CheckResult failed = CheckResult.fail("3.1", "audit", "3 wrong");
    assertThat(ExactnessCheck.verdict(failed, wrong, true).verdict()).isEqualTo(CheckResult.Verdict.FAILED);
  }
}
