package dev.braid.correlator.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonOutTest {
  private final JsonOut out = new JsonOut();

  private String number(long v) {
    out.reset();
    return out.number(v).toString();
  }

  @Test
  void numbersAreWrittenAsJavaWritesThem() {
    long[] edges = {0, 1, 9, 10, 99, 100, 999_999_999, 1_000_000_000, 1_000_000_001, 999_999_999_999_999_999L, 1_000_000_000_000_000_000L,
        1_765_000_000_123_456_789L, Long.MAX_VALUE, -1, -1_000_000_000, Long.MIN_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE};
    for (long v : edges) {
      assertThat(number(v)).as("%d", v).isEqualTo(Long.toString(v));
    }
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 100_000; i++) {
      long v = random.nextLong() >>> random.nextInt(64);
      assertThat(number(v)).isEqualTo(Long.toString(v));
      assertThat(number(-v)).isEqualTo(Long.toString(-v));
    }
  }

  @Test
  void aStringEqualToACachedOneButAnotherObjectIsWrittenTheSame() {
    String first = "shop:8080 \"quoted\" \u00e9";
    String again = new String(first.toCharArray()); // equal, not identical: as a substring per span is
    out.string(first).raw(',').string(again).raw(',').string("other");
    assertThat(out.toString()).isEqualTo("\"shop:8080 \\\"quoted\\\" \u00e9\",\"shop:8080 \\\"quoted\\\" \u00e9\",\"other\"");
  }

  @Test
  void aLongLineGoesOutWholeInWritesOfAtMostAChunk() throws IOException {
    for (int i = 0; i < 3 * JsonOut.WRITE_CHUNK / 10 + 7; i++) {
      out.number(1_000_000_000L + i); // 10 digits each
    }
    ByteArrayOutputStream whole = new ByteArrayOutputStream();
    List<Integer> writes = new ArrayList<>();
    out.writeTo(
        new OutputStream() {
          @Override
          public void write(int b) {
            throw new AssertionError("one byte at a time");
          }

          @Override
          public void write(byte[] b, int off, int len) {
            writes.add(len);
            whole.write(b, off, len);
          }
        });
    assertThat(whole.toString()).isEqualTo(out.toString());
    assertThat(writes).hasSize(4).allMatch(len -> len <= JsonOut.WRITE_CHUNK);
    assertThat(writes.subList(0, 3)).containsOnly(JsonOut.WRITE_CHUNK);
  }
}
