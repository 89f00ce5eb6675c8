package dev.braid.profiler;

import dev.braid.bpf.testing.BtfLayouts;
import org.junit.jupiter.api.Test;

/** The Java side of sampler.h equals the C side, as the compiler laid it out (BTF). */
class LayoutTest {
  @Test
  void sampleEventMatchesC() {
    BtfLayouts.assertMatches(Sampler.OBJECT, SampleEventDecoder.SAMPLE);
  }

  @Test
  void sampleTargetMatchesC() {
    BtfLayouts.assertMatches(Sampler.OBJECT, GoroutineLocator.LAYOUT);
  }
}
