package dev.braid.correlator.otlp;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.ProcessInfo;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import java.util.List;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the reading of the OTLP/JSON that an --auto-sdk program serializes for each span it ends.
 * That JSON is the traced program's memory, whatever it holds: braid exports the span, or, when
 * the JSON is not OTLP/JSON ({@link InvalidProtocolBufferException}), what it can read of it as a
 * cut span; nothing else may come out. Seed: a span as go.opentelemetry.io/auto/sdk v1.2.1 wrote it.
 */
class ApiSpansFuzzTest {
  private static final ProcessInfo PROCESS = new ProcessInfo(4242, "/srv/shop", "shop", "host");
  private static final TraceContext SPAN = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "53995c3f42cd8ad8");

  @FuzzTest(maxDuration = "10m")
  @Timeout(10)
  void otlpJson(byte[] json) {
    ApiSpans.Ended whole = new ApiSpans.Ended(SPAN, "00f067aa0ba902b7", 1_000, 5_000, json.length, json);
    try {
      List<ResourceSpans> spans = ApiSpans.of(whole, PROCESS);
      if (spans.size() == 1 && ApiSpans.isServer(spans.getFirst())) {
        ApiSpans.withParent(spans.getFirst(), "");
      }
    } catch (InvalidProtocolBufferException e) {
      ApiSpans.cut(whole, PROCESS);
    }
    ApiSpans.cut(new ApiSpans.Ended(SPAN, "", 0, 5_000, json.length + 100L, json), PROCESS);
  }
}
