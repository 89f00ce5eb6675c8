package dev.braid.conformance;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fuzzes the suite's OTLP/HTTP receiver, which takes whatever the judged writer sends: every body
 * is kept (200) or refused with the reason (400), and the receiver stays up. Byte 0 of an input
 * says how it is sent (bit 0: JSON, else protobuf; bit 1: gzip it; bit 2: claim gzip without it).
 */
class OtlpReceiverFuzzTest {
  private static final OtlpReceiver RECEIVER = OtlpReceiver.start();
  private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

  @AfterAll
  static void stop() {
    RECEIVER.close();
  }

  @MethodSource("exports")
  @FuzzTest(maxDuration = "10m")
  @Timeout(10)
  void export(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    boolean json = (input[0] & 1) != 0;
    boolean gzip = (input[0] & 2) != 0;
    boolean claimGzip = (input[0] & 4) != 0;
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    int status = OtlpReceiverTest.post(RECEIVER, json ? "application/json" : "application/x-protobuf",
        gzip || claimGzip ? "gzip" : null, gzip ? gzip(body) : body);
    if (status != 200 && status != 400) {
      throw new AssertionError("the receiver answered " + status + " (want 200, or 400 with the reason)");
    }
  }

  /** Seeds: one span exported as protobuf, as gzipped protobuf, and as OTLP/JSON. */
  static Stream<byte[]> exports() {
    byte[] proto = OtlpReceiverTest.export(TRACE_ID, "00f067aa0ba902b7");
    byte[] json = ("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"" + TRACE_ID
        + "\",\"spanId\":\"00f067aa0ba902b7\",\"kind\":2,\"startTimeUnixNano\":\"1000\",\"endTimeUnixNano\":\"2000\"}]}]}]}")
        .getBytes(StandardCharsets.UTF_8);
    return Stream.of(prefixed(0, proto), prefixed(2, proto), prefixed(1, json));
  }

  private static byte[] prefixed(int flags, byte[] body) {
    byte[] out = new byte[body.length + 1];
    out[0] = (byte) flags;
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }

  private static byte[] gzip(byte[] body) throws java.io.IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(body);
    }
    return out.toByteArray();
  }
}
