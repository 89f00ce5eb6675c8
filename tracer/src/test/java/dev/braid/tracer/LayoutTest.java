package dev.braid.tracer;

import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.BtfLayouts;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import org.junit.jupiter.api.Test;

/** The Java side of tracer.h equals the C side, as the compiler laid it out (BTF). */
class LayoutTest {
  @Test
  void eventHeaderMatchesC() {
    BtfLayouts.assertMatches(Tracer.OBJECT, SpanEventDecoder.HEADER);
  }

  @Test
  void spanStartEventMatchesC() {
    BtfLayouts.assertMatches(Tracer.OBJECT, SpanEventDecoder.SPAN_START);
  }

  @Test
  void spanEndEventMatchesC() {
    BtfLayouts.assertMatches(Tracer.OBJECT, SpanEventDecoder.SPAN_END);
  }

  @Test
  void goOffsetsMatchC() {
    // GoOffsets.toBytes() writes its 16 record components in order, as u32s.
    var components = GoOffsets.class.getRecordComponents();
    MemoryLayout[] fields = new MemoryLayout[components.length];
    for (int i = 0; i < components.length; i++) {
      fields[i] = JAVA_INT.withName(snake(components[i].getName()));
    }
    StructLayout layout = structLayout(fields).withName("go_offsets");
    assertThat(layout.byteSize()).isEqualTo(GoOffsets.SIZE);
    BtfLayouts.assertMatches(Tracer.OBJECT, layout);
  }

  private static String snake(String camel) {
    return camel.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
  }
}
