package dev.braid.bpf.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.braid.bpf.BpfObject;
import dev.braid.bpf.Btf;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

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

  /**
   * The C enum {@code enumName} and the {@code static final int} fields of {@code java} that share
   * its members' prefix (FEAT_, STAT_, ...) have the same names with the same values.
   */
  public static void assertConstants(String objectResource, String enumName, Class<?> constants) {
    try (BpfObject obj = BpfObject.openResource(objectResource)) {
      Map<String, Long> c = obj.btf().enumValues(enumName).orElseThrow(() -> new AssertionError(objectResource + " has no enum " + enumName));
      String prefix = commonPrefix(c.keySet());
      Map<String, Long> javaValues = new TreeMap<>();
      for (Field f : constants.getDeclaredFields()) {
        int m = f.getModifiers();
        if (f.getType() == int.class && Modifier.isStatic(m) && Modifier.isFinal(m) && f.getName().startsWith(prefix)) {
          try {
            f.setAccessible(true);
            javaValues.put(f.getName(), (long) f.getInt(null));
          } catch (IllegalAccessException e) {
            throw new AssertionError(e);
          }
        }
      }
      assertThat(javaValues).as("%s's %s* against enum %s", constants.getSimpleName(), prefix, enumName).isEqualTo(new TreeMap<>(c));
    }
  }

  /** The longest prefix, up to an underscore, that all the names share. */
  private static String commonPrefix(Collection<String> names) {
    String first = names.iterator().next();
    int end = first.length();
    for (String n : names) {
      int i = 0;
      while (i < Math.min(end, n.length()) && n.charAt(i) == first.charAt(i)) {
        i++;
      }
      end = i;
    }
    return first.substring(0, first.lastIndexOf('_', end - 1) + 1);
  }
}
