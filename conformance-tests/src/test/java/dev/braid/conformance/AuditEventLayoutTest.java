package dev.braid.conformance;

import dev.braid.bpf.testing.BtfLayouts;
import org.junit.jupiter.api.Test;

/** The Java side of auditor.h equals the C side, as the compiler laid it out (BTF). */
class AuditEventLayoutTest {
  @Test
  void auditEventMatchesC() {
    BtfLayouts.assertMatches(ContextAuditor.OBJECT, ContextAuditor.EVENT);
  }
}
