package dev.braid.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * A BPF ELF object through libbpf: opened from bytes (no privilege needed), adjusted (map sizes,
 * reused pinned maps), then loaded into the kernel.
 *
 * <p>Owns the {@code bpf_object*}: {@link #close()} unloads its programs and releases its maps
 * (a pinned map lives on in bpffs). The {@link BpfProgram}s and {@link BpfMap}s it hands out are
 * views that die with it. Links made from its programs must be closed first. Not thread-safe:
 * load and attach from one thread.
 */
public final class BpfObject implements AutoCloseable {
  private final String name;
  private final Arena elfBuffer;
  private final Map<String, BpfMap> maps = new HashMap<>();
  private MemorySegment handle;
  private boolean loaded;

  private BpfObject(String name, MemorySegment handle, Arena elfBuffer) {
    this.name = name;
    this.handle = handle;
    this.elfBuffer = elfBuffer;
  }

  /** Opens an object from a classpath resource, such as {@code /bpf/tracer.bpf.o}. */
  public static BpfObject openResource(String resource) {
    try (InputStream in = BpfObject.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            "BPF object " + resource + " is not on the classpath: the bpf module was built without it");
      }
      return open(resource.substring(resource.lastIndexOf('/') + 1), in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + resource, e);
    }
  }

  /** Opens an object from its ELF bytes. libbpf parses it; nothing reaches the kernel yet. */
  public static BpfObject open(String name, byte[] elf) {
    Libbpf.ensureLoaded();
    Arena arena = Arena.ofShared();
    try (Arena call = Arena.ofConfined()) {
      LibbpfLog.begin();
      // libbpf keeps pointing at the buffer until the object is closed.
      MemorySegment buf = arena.allocate(elf.length);
      MemorySegment.copy(MemorySegment.ofArray(elf), 0, buf, 0, elf.length);
      MemorySegment errno = Libbpf.newErrnoState(call);
      MemorySegment obj =
          (MemorySegment) Libbpf.H.OBJECT_OPEN_MEM.invokeExact(errno, buf, (long) elf.length, MemorySegment.NULL);
      if (obj.equals(MemorySegment.NULL)) {
        throw new BpfLoadException("object " + name + ": open", Libbpf.errno(errno), LibbpfLog.recent());
      }
      return new BpfObject(name, obj, arena);
    } catch (Throwable t) {
      arena.close();
      throw Libbpf.rethrow(t);
    }
  }

  public String name() {
    return name;
  }

  /** Loads every program and creates every map (or reuses the fds set with {@link BpfMap#reuseFd}). */
  public void load() {
    requireOpen();
    if (loaded) {
      return;
    }
    LibbpfLog.begin();
    int rc;
    try {
      rc = (int) Libbpf.H.OBJECT_LOAD.invokeExact(handle);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
    if (rc < 0) {
      throw new BpfLoadException("object " + name + ": load", -rc, LibbpfLog.recent());
    }
    loaded = true;
  }

  public boolean isLoaded() {
    return loaded;
  }

  /** A program of this object by its C function name. */
  public BpfProgram program(String programName) {
    requireOpen();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment p =
          (MemorySegment) Libbpf.H.OBJECT_FIND_PROGRAM.invokeExact(handle, call.allocateFrom(programName));
      if (p.equals(MemorySegment.NULL)) {
        throw new IllegalArgumentException("object " + name + " has no program " + programName);
      }
      return new BpfProgram(this, programName, p);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** A map of this object by name. */
  public BpfMap map(String mapName) {
    requireOpen();
    return maps.computeIfAbsent(mapName, this::findMap);
  }

  private BpfMap findMap(String mapName) {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment m = (MemorySegment) Libbpf.H.OBJECT_FIND_MAP.invokeExact(handle, call.allocateFrom(mapName));
      if (m.equals(MemorySegment.NULL)) {
        throw new IllegalArgumentException("object " + name + " has no map " + mapName);
      }
      return BpfMap.ofObject(this, mapName, m);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** The object's BTF (from its ELF; no privilege needed). */
  public Btf btf() {
    requireOpen();
    try {
      MemorySegment btf = (MemorySegment) Libbpf.H.OBJECT_BTF.invokeExact(handle);
      if (btf.equals(MemorySegment.NULL)) {
        throw new IllegalStateException("object " + name + " has no BTF: build it with clang -g");
      }
      return new Btf(btf);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  void requireOpen() {
    if (handle == null) {
      throw new IllegalStateException("object " + name + " is closed");
    }
  }

  void requireLoaded(String what) {
    requireOpen();
    if (!loaded) {
      throw new IllegalStateException("object " + name + ": " + what + " needs a loaded object");
    }
  }

  @Override
  public void close() {
    if (handle == null) {
      return;
    }
    try {
      Libbpf.H.OBJECT_CLOSE.invokeExact(handle);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    } finally {
      handle = null;
      elfBuffer.close();
    }
  }
}
