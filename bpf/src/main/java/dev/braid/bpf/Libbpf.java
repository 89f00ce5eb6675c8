package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The downcall handles into the system's {@code libbpf.so.1} and the few libc functions braid
 * needs, built once. Every other class of this package calls libbpf through here, so that FFM
 * lives in one place.
 *
 * <p>Handles marked "errno" take a leading capture-state segment (see {@link #newErrnoState}).
 * libbpf 1.x returns negative error codes from int functions and sets errno for functions that
 * return pointers.
 */
final class Libbpf {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final Linker.Option WITH_ERRNO = Linker.Option.captureCallState("errno");

  static final String LIBRARY = "libbpf.so.1";
  /**
   * A directory holding libbpf.so.1 and the libraries it links (the release's lib/native): those
   * are loaded, dependencies first, so that the host needs no libbpf of its own.
   */
  static final String BUNDLED_PROPERTY = "braid.native";

  private Libbpf() {}

  /** Memory for one call's errno, allocated in the caller's arena. */
  static MemorySegment newErrnoState(Arena arena) {
    return arena.allocate(CAPTURE);
  }

  static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  /** Thrown from the holder's initializer when libbpf is missing; rethrown with the fix. */
  static BpfNotSupportedException missingLibrary(Throwable cause) {
    return new BpfNotSupportedException(
        LIBRARY
            + " could not be loaded ("
            + cause.getMessage()
            + "); install it: apt-get install libbpf1 (Debian/Ubuntu) or dnf install libbpf",
        cause);
  }

  /**
   * Binds libbpf now, so that a missing library is a {@link BpfNotSupportedException} with the
   * fix, not the {@code NoClassDefFoundError} a failed class initializer becomes on second use.
   */
  static void ensureLoaded() {
    try {
      H.touch();
    } catch (ExceptionInInitializerError e) {
      throw e.getCause() instanceof BpfNotSupportedException b ? b : missingLibrary(e.getCause());
    } catch (NoClassDefFoundError e) {
      throw missingLibrary(e);
    }
  }

  /** Binds libbpf lazily: a JVM without libbpf can still run everything that does not need it. */
  static final class H {
    private static final SymbolLookup BPF;

    static {
      try {
        BPF = lookup();
      } catch (IllegalArgumentException e) {
        throw missingLibrary(e);
      }
    }

    /**
     * A library loaded by path satisfies a later library's dependency of that soname, so
     * libbpf's dependencies come from the same directory: each is loaded once those it needs
     * are (a library that fails is tried again after the others), then libbpf.
     */
    private static SymbolLookup lookup() {
      String dir = System.getProperty(BUNDLED_PROPERTY);
      if (dir == null) {
        return SymbolLookup.libraryLookup(LIBRARY, Arena.global());
      }
      List<Path> pending;
      try (var files = Files.list(Path.of(dir))) {
        pending = new ArrayList<>(files.filter(f -> f.getFileName().toString().contains(".so") && !f.getFileName().toString().equals(LIBRARY)).sorted().toList());
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot list " + dir + ": " + e.getMessage(), e);
      }
      for (boolean progress = true; progress && !pending.isEmpty(); ) {
        progress = pending.removeIf(Libbpf.H::loads);
      }
      return SymbolLookup.libraryLookup(Path.of(dir, LIBRARY), Arena.global());
    }

    private static boolean loads(Path library) {
      try {
        SymbolLookup.libraryLookup(library, Arena.global());
        return true;
      } catch (IllegalArgumentException e) {
        return false;
      }
    }

    private static MethodHandle bpf(String name, FunctionDescriptor fd, Linker.Option... options) {
      MemorySegment symbol =
          BPF.find(name)
              .orElseThrow(
                  () ->
                      new BpfNotSupportedException(
                          LIBRARY + " has no " + name + ": libbpf 1.0 or newer is needed", 0, ""));
      return LINKER.downcallHandle(symbol, fd, options);
    }

    static final MethodHandle LIBBPF_MAJOR_VERSION = bpf("libbpf_major_version", FunctionDescriptor.of(JAVA_INT));
    static final MethodHandle LIBBPF_MINOR_VERSION = bpf("libbpf_minor_version", FunctionDescriptor.of(JAVA_INT));
    static final MethodHandle LIBBPF_SET_PRINT =
        bpf("libbpf_set_print", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle LIBBPF_STRERROR =
        bpf("libbpf_strerror", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));

    // errno
    static final MethodHandle OBJECT_OPEN_MEM =
        bpf("bpf_object__open_mem", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), WITH_ERRNO);
    static final MethodHandle OBJECT_LOAD = bpf("bpf_object__load", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle OBJECT_CLOSE = bpf("bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle OBJECT_FIND_PROGRAM =
        bpf("bpf_object__find_program_by_name", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle OBJECT_FIND_MAP =
        bpf("bpf_object__find_map_by_name", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle OBJECT_BTF = bpf("bpf_object__btf", FunctionDescriptor.of(ADDRESS, ADDRESS));

    static final MethodHandle MAP_FD = bpf("bpf_map__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle MAP_REUSE_FD =
        bpf("bpf_map__reuse_fd", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle MAP_SET_MAX_ENTRIES =
        bpf("bpf_map__set_max_entries", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

    // errno
    static final MethodHandle PROGRAM_ATTACH_UPROBE_OPTS =
        bpf(
            "bpf_program__attach_uprobe_opts",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS),
            WITH_ERRNO);
    // errno
    static final MethodHandle PROGRAM_ATTACH_PERF_EVENT =
        bpf("bpf_program__attach_perf_event", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT), WITH_ERRNO);
    // errno
    static final MethodHandle PROGRAM_ATTACH = bpf("bpf_program__attach", FunctionDescriptor.of(ADDRESS, ADDRESS), WITH_ERRNO);
    static final MethodHandle LINK_DESTROY = bpf("bpf_link__destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle PROGRAM_FD = bpf("bpf_program__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    // errno
    static final MethodHandle PROGRAM_ATTACH_CGROUP =
        bpf("bpf_program__attach_cgroup", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT), WITH_ERRNO);
    static final MethodHandle PROG_ATTACH =
        bpf("bpf_prog_attach", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle PROG_DETACH2 = bpf("bpf_prog_detach2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));

    static final MethodHandle MAP_LOOKUP_ELEM =
        bpf("bpf_map_lookup_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle MAP_UPDATE_ELEM =
        bpf("bpf_map_update_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle MAP_DELETE_ELEM =
        bpf("bpf_map_delete_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle MAP_GET_NEXT_KEY =
        bpf("bpf_map_get_next_key", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle MAP_CREATE =
        bpf("bpf_map_create", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle OBJ_PIN = bpf("bpf_obj_pin", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle OBJ_GET = bpf("bpf_obj_get", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle OBJ_GET_INFO_BY_FD =
        bpf("bpf_obj_get_info_by_fd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));

    // errno
    static final MethodHandle RING_BUFFER_NEW =
        bpf("ring_buffer__new", FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS), WITH_ERRNO);
    static final MethodHandle RING_BUFFER_CONSUME =
        bpf("ring_buffer__consume", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle RING_BUFFER_FREE = bpf("ring_buffer__free", FunctionDescriptor.ofVoid(ADDRESS));

    static final MethodHandle BTF_FIND_BY_NAME_KIND =
        bpf("btf__find_by_name_kind", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle BTF_TYPE_BY_ID = bpf("btf__type_by_id", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle BTF_LOAD_FROM_KERNEL_BY_ID =
        bpf("btf__load_from_kernel_by_id", FunctionDescriptor.of(ADDRESS, JAVA_INT), WITH_ERRNO);
    static final MethodHandle BTF_NEW = bpf("btf__new", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT), WITH_ERRNO);
    static final MethodHandle BTF_FREE = bpf("btf__free", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle BTF_NAME_BY_OFFSET =
        bpf("btf__name_by_offset", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));

    private H() {}

    static void touch() {}
  }

  /** libc: always present. */
  static final class C {
    private static final SymbolLookup LIBC = LINKER.defaultLookup();

    private static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... options) {
      return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd, options);
    }

    // errno; syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags)
    static final MethodHandle SYSCALL_PERF_EVENT_OPEN =
        libc(
            "syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
            Linker.Option.firstVariadicArg(1),
            WITH_ERRNO);
    static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    // errno
    static final MethodHandle OPEN = libc("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.firstVariadicArg(2), WITH_ERRNO);
    // errno
    static final MethodHandle MKDIR = libc("mkdir", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), WITH_ERRNO);
    // errno
    static final MethodHandle CHMOD = libc("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), WITH_ERRNO);
    /** vsnprintf(buf, size, fmt, va_list): on x86-64 a va_list argument is passed as a pointer. */
    static final MethodHandle VSNPRINTF =
        libc("vsnprintf", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));

    private C() {}
  }

  static Linker linker() {
    return LINKER;
  }

  /** libbpf's text for a (positive) error code. */
  static String strerror(int errno) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(256);
      int rc = (int) H.LIBBPF_STRERROR.invokeExact(-errno, buf, 256L);
      return rc == 0 ? buf.getString(0) : Errno.describe(errno);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Downcalls declare Throwable; nothing checked can come out of native code. */
  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }
}
