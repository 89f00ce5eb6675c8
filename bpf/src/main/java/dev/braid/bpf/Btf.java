package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * BTF read through libbpf: the C layouts as the compiler laid them out. Either a {@link
 * BpfObject}'s (a view that dies with its object; close does nothing), or one the kernel holds for
 * a loaded map ({@link #ofKernel}; close frees it).
 */
public final class Btf implements AutoCloseable {
  /** BTF's u32 fields, read where libbpf has the types: aligned as the kernel loads them, not always as libbpf parses a blob. */
  private static final ValueLayout.OfInt U32 = JAVA_INT_UNALIGNED;
  private static final int BTF_KIND_STRUCT = 4;
  private static final int BTF_KIND_ENUM = 6;
  /** struct btf_enum: name_off, val. */
  private static final long ENUM_ENTRY_SIZE = 8;
  private static final int BTF_KIND_TYPEDEF = 8;
  private static final int BTF_KIND_VOLATILE = 9;
  private static final int BTF_KIND_CONST = 10;
  private static final int TYPE_HEADER = 12; // struct btf_type: name_off, info, size
  private static final int MEMBER_SIZE = 12; // struct btf_member: name_off, type, offset

  private final MemorySegment handle;
  private final boolean owned;

  Btf(MemorySegment handle) {
    this(handle, false);
  }

  private Btf(MemorySegment handle, boolean owned) {
    this.handle = handle;
    this.owned = owned;
  }

  /** The BTF object the kernel holds under {@code id} ({@link MapInfo#btfId()}). */
  public static Btf ofKernel(int id) {
    Libbpf.ensureLoaded();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment errno = Libbpf.newErrnoState(call);
      LibbpfLog.begin();
      MemorySegment btf = (MemorySegment) Libbpf.H.BTF_LOAD_FROM_KERNEL_BY_ID.invokeExact(errno, id);
      if (btf.equals(MemorySegment.NULL)) {
        throw new BpfException("BTF id " + id + ": load from the kernel", Libbpf.errno(errno), LibbpfLog.recent());
      }
      return new Btf(btf, true);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * BTF in its raw form (a {@code .BTF} section), checked by libbpf's parser; the caller closes it.
   *
   * @throws BpfException with libbpf's reason when it is not BTF libbpf accepts
   */
  static Btf parse(byte[] raw) {
    Libbpf.ensureLoaded();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment errno = Libbpf.newErrnoState(call);
      LibbpfLog.begin();
      MemorySegment btf = (MemorySegment) Libbpf.H.BTF_NEW.invokeExact(errno, (MemorySegment) call.allocateFrom(JAVA_BYTE, raw), raw.length);
      if (btf.equals(MemorySegment.NULL)) {
        throw new BpfException("BTF of " + raw.length + " bytes: parse", Libbpf.errno(errno), LibbpfLog.recent());
      }
      return new Btf(btf, true);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** The struct that type {@code id} is, through typedefs and qualifiers; empty when it is no struct, or no type. */
  public Optional<Struct> structOf(int id) {
    try {
      for (int hops = 0; hops < 8; hops++) {
        MemorySegment found = (MemorySegment) Libbpf.H.BTF_TYPE_BY_ID.invokeExact(handle, id);
        if (found.equals(MemorySegment.NULL)) {
          return Optional.empty();
        }
        MemorySegment type = found.reinterpret(TYPE_HEADER);
        int kind = (type.get(U32, 4) >>> 24) & 0x1f;
        if (kind == BTF_KIND_STRUCT) {
          return Optional.of(structAt(type, nameAt(type.get(U32, 0))));
        }
        if (kind != BTF_KIND_TYPEDEF && kind != BTF_KIND_CONST && kind != BTF_KIND_VOLATILE) {
          return Optional.empty();
        }
        id = type.get(U32, 8); // the type it names
      }
      return Optional.empty();
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  @Override
  public void close() {
    if (owned) {
      try {
        Libbpf.H.BTF_FREE.invokeExact(handle);
      } catch (Throwable t) {
        throw Libbpf.rethrow(t);
      }
    }
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
      return Optional.of(structAt(type, name));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** The members of the enum named {@code name} and their values, in order, if the object's BTF has it. */
  public Optional<Map<String, Long>> enumValues(String name) {
    try (Arena call = Arena.ofConfined()) {
      int id = (int) Libbpf.H.BTF_FIND_BY_NAME_KIND.invokeExact(handle, call.allocateFrom(name), BTF_KIND_ENUM);
      if (id < 0) {
        return Optional.empty();
      }
      MemorySegment type = ((MemorySegment) Libbpf.H.BTF_TYPE_BY_ID.invokeExact(handle, id)).reinterpret(TYPE_HEADER);
      int vlen = type.get(U32, 4) & 0xffff;
      MemorySegment entries = type.reinterpret(TYPE_HEADER + vlen * ENUM_ENTRY_SIZE);
      Map<String, Long> values = new LinkedHashMap<>();
      for (int i = 0; i < vlen; i++) {
        long base = TYPE_HEADER + i * ENUM_ENTRY_SIZE;
        values.put(nameAt(entries.get(U32, base)), (long) entries.get(U32, base + 4));
      }
      return Optional.of(values);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** The struct whose btf_type header is at {@code type}. */
  private Struct structAt(MemorySegment type, String name) throws Throwable {
    int info = type.get(U32, 4);
    int vlen = info & 0xffff;
    boolean bitfieldEncoding = (info >>> 31) != 0;
    long size = Integer.toUnsignedLong(type.get(U32, 8));
    MemorySegment members = type.reinterpret(TYPE_HEADER + (long) vlen * MEMBER_SIZE);
    List<Member> list = new ArrayList<>(vlen);
    for (int i = 0; i < vlen; i++) {
      long base = TYPE_HEADER + (long) i * MEMBER_SIZE;
      int nameOff = members.get(U32, base);
      int offset = members.get(U32, base + 8);
      long bits = bitfieldEncoding ? offset & 0xffffff : Integer.toUnsignedLong(offset);
      list.add(new Member(nameAt(nameOff), bits / 8));
    }
    return new Struct(name, size, List.copyOf(list));
  }

  private String nameAt(int offset) throws Throwable {
    MemorySegment s = (MemorySegment) Libbpf.H.BTF_NAME_BY_OFFSET.invokeExact(handle, offset);
    return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(Long.MAX_VALUE).getString(0);
  }
}
