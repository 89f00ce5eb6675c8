package dev.braid.bpf.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.BpfObject;
import dev.braid.bpf.Btf;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/** Checks a Java {@link StructLayout} against the C struct of the same name in an object's BTF. */
public final class BtfLayouts {
  private BtfLayouts() {}

  /**
   * The C struct named like {@code layout} has the same size and, member by member, the same
   * names at the same offsets (padding is skipped: unnamed in Java, named {@code _...} in C).
   */
  public static void assertMatches(String objectResource, StructLayout layout) {
    String name = layout.name().orElseThrow(() -> new IllegalArgumentException("layout needs a name"));
    try (BpfObject obj = BpfObject.openResource(objectResource)) {
      Btf.Struct c = obj.btf().struct(name).orElseThrow(() -> new AssertionError(objectResource + " has no struct " + name));
      assertThat(layout.byteSize()).as("sizeof(struct %s)", name).isEqualTo(c.size());
      var java = layout.memberLayouts().stream().filter(m -> m.name().isPresent()).toList();
      assertThat(java).extracting(m -> m.name().orElseThrow()).as("members of %s", name)
          .containsExactlyElementsOf(c.members().stream().map(Btf.Member::name).filter(n -> !n.startsWith("_")).toList());
      for (MemoryLayout m : java) {
        String member = m.name().orElseThrow();
        assertThat(layout.byteOffset(MemoryLayout.PathElement.groupElement(member)))
            .as("offsetof(struct %s, %s)", name, member)
            .isEqualTo(c.member(member).orElseThrow().offset());
      }
    }
  }
}
