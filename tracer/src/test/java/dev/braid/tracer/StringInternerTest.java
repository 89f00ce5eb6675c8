package dev.braid.tracer;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StringInternerTest {
  private final StringInterner strings = new StringInterner();
  private final Arena arena = Arena.ofAuto();

  private String intern(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    MemorySegment record = arena.allocate(bytes.length + 8);
    MemorySegment.copy(MemorySegment.ofArray(bytes), 0, record, 8, bytes.length);
    return strings.of(record, 8, bytes.length);
  }

  @Test
  void givesTheSameStringForTheSameBytes() {
    String first = intern("/checkout");
    assertThat(first).isEqualTo("/checkout");
    assertThat(intern("/checkout")).isSameAs(first);
    assertThat(intern("/héllo")).isEqualTo("/héllo");
    assertThat(intern("")).isEmpty();
  }

  @Test
  void twoStringsOfOneSetBothStay() {
    // GET and /api/cart share a set (and /r131 too): a request's method and path alternate.
    String get = intern("GET");
    String cart = intern("/api/cart");
    for (int i = 0; i < 3; i++) {
      assertThat(intern("GET")).isSameAs(get);
      assertThat(intern("/api/cart")).isSameAs(cart);
    }
    // A third evicts the one used least recently, GET; /api/cart stays.
    assertThat(intern("/r131")).isEqualTo("/r131");
    assertThat(intern("/api/cart")).isSameAs(cart);
    assertThat(intern("GET")).isEqualTo("GET").isNotSameAs(get);
  }

  @Test
  void keepsTheFirst256Bytes() {
    String longPath = "/" + "a".repeat(300);
    assertThat(intern(longPath)).isEqualTo(longPath.substring(0, 256));
  }
}
