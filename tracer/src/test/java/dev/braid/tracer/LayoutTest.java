package dev.braid.tracer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.testing.BtfLayouts;
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
  void applicationServerSpanEventMatchesC() {
    BtfLayouts.assertMatches(Tracer.OBJECT, SpanEventDecoder.APP_SERVER_SPAN);
  }

  @Test
  void apiSpanEventMatchesC() {
    BtfLayouts.assertMatches(Tracer.AUTO_SDK_OBJECT, SpanEventDecoder.API_SPAN);
  }

  @Test
  void handOffEventMatchesC() {
    BtfLayouts.assertMatches(Tracer.OBJECT, SpanEventDecoder.HANDOFF);
  }

  @Test
  void goOffsetsMatchC() {
    BtfLayouts.assertMatches(Tracer.OBJECT, GoOffsets.LAYOUT);
    GoOffsets empty = new GoOffsets(0, java.util.Map.of(), GoOffsets.MAP_LAYOUT_SWISS, 0, java.util.List.of());
    assertThat(empty.toBytes()).hasSize((int) GoOffsets.LAYOUT.byteSize());
  }

  /** tracer.h's enums, which the C side reads as constants, against their Java copies. */
  @Test
  void constantsMatchC() {
    BtfLayouts.assertConstants(Tracer.OBJECT, "braid_feature", GoOffsets.class);
    BtfLayouts.assertConstants(Tracer.OBJECT, "braid_map_layout", GoOffsets.class);
    BtfLayouts.assertConstants(Tracer.OBJECT, "braid_event", SpanEventDecoder.class);
    BtfLayouts.assertConstants(Tracer.OBJECT, "braid_end_reason", SpanEventDecoder.class);
    BtfLayouts.assertConstants(Tracer.OBJECT, "braid_handoff", SpanEventDecoder.class);
    BtfLayouts.assertConstants(Tracer.OBJECT, "braid_stat", Tracer.class);
  }
}
