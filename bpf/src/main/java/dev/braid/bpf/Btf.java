package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The BTF of a {@link BpfObject}, read through libbpf: the C layouts as the compiler laid them
 * out. A view that dies with its object.
 */
public final class Btf {
  private static final int BTF_KIND_STRUCT = 4;
  private static final int TYPE_HEADER = 12; // struct btf_type: name_off, info, size
  private static final int MEMBER_SIZE = 12; // struct btf_member: name_off, type, offset

  private final MemorySegment handle;

  Btf(MemorySegment handle) {
    this.handle = handle;
  }

  /** A struct member: its name and its offset in bytes. */
  public record Member(String name, long offset) {}

  /** A struct as BTF describes it. */
  public record Struct(String name, long size, List<Member> members) {
    public Optional<Member> member(String memberName) {
      return members.stream().filter(m -> m.name().equals(memberName)).findFirst();
    }
  }

  /** The struct named {@code name}, if the object's BTF has it. */
  public Optional<Struct> struct(String name) {
    try (Arena call = Arena.ofConfined()) {
      int id = (int) Libbpf.H.BTF_FIND_BY_NAME_KIND.invokeExact(handle, call.allocateFrom(name), BTF_KIND_STRUCT);
      if (id < 0) {
        return Optional.empty();
      }
      MemorySegment type = ((MemorySegment) Libbpf.H.BTF_TYPE_BY_ID.invokeExact(handle, id)).reinterpret(TYPE_HEADER);
      int info = type.get(JAVA_INT, 4);
      int vlen = info & 0xffff;
      boolean bitfieldEncoding = (info >>> 31) != 0;
      long size = Integer.toUnsignedLong(type.get(JAVA_INT, 8));
      MemorySegment members = type.reinterpret(TYPE_HEADER + (long) vlen * MEMBER_SIZE);
      List<Member> list = new ArrayList<>(vlen);
      for (int i = 0; i < vlen; i++) {
        long base = TYPE_HEADER + (long) i * MEMBER_SIZE;
        int nameOff = members.get(JAVA_INT, base);
        int offset = members.get(JAVA_INT, base + 8);
        long bits = bitfieldEncoding ? offset & 0xffffff : Integer.toUnsignedLong(offset);
        list.add(new Member(nameAt(nameOff), bits / 8));
      }
      return Optional.of(new Struct(name, size, List.copyOf(list)));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  private String nameAt(int offset) throws Throwable {
    MemorySegment s = (MemorySegment) Libbpf.H.BTF_NAME_BY_OFFSET.invokeExact(handle, offset);
    return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(Long.MAX_VALUE).getString(0);
  }
}
