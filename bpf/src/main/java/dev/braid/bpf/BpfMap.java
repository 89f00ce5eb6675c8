package dev.braid.bpf;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A BPF map, reached through its fd. Either a view of a map of a {@link BpfObject} (the object
 * owns the fd; {@link #close()} does nothing) or a map opened from a bpffs pin with {@link
 * #openPinned} (this object owns the fd and {@link #close()} closes it).
 *
 * <p>Keys and values are byte arrays in the map's own layout. Operations are thread-safe (each is
 * one syscall) but not atomic with each other. Failures throw {@link BpfMapException}; "no such
 * key" is an empty {@link Optional} or {@code false}, never an exception.
 */
public final class BpfMap implements AutoCloseable {
  private static final int BPF_ANY = 0;

  private final String name;
  private final BpfObject object; // null when this map owns its fd
  private final MemorySegment handle; // bpf_map* inside object, or NULL
  private int ownFd;
  private MapInfo info;
  private long valueBufferSize = -1;

  private BpfMap(String name, BpfObject object, MemorySegment handle, int ownFd) {
    this.name = name;
    this.object = object;
    this.handle = handle;
    this.ownFd = ownFd;
  }

  static BpfMap ofObject(BpfObject object, String name, MemorySegment handle) {
    return new BpfMap(name, object, handle, -1);
  }

  /**
   * Opens a pinned map. Empty when nothing is pinned at {@code path}; throws when something is
   * there that cannot be opened (not a map, no permission).
   */
  public static Optional<BpfMap> openPinned(Path path) {
    Libbpf.ensureLoaded();
    try (Arena call = Arena.ofConfined()) {
      LibbpfLog.begin();
      int fd = (int) Libbpf.H.OBJ_GET.invokeExact(call.allocateFrom(path.toString()));
      if (fd == -Errno.ENOENT) {
        return Optional.empty();
      }
      if (fd < 0) {
        throw new BpfMapException("pin " + path + ": open", -fd, LibbpfLog.recent());
      }
      BpfMap map = new BpfMap(path.getFileName().toString(), null, MemorySegment.NULL, fd);
      try {
        map.info(); // also proves that the pinned object is a map
      } catch (BpfMapException e) {
        map.close();
        throw new BpfMapException("pin " + path + ": not a BPF map", e.errno(), "");
      }
      return Optional.of(map);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * Creates a map outside any object, without BTF ({@code type} from {@link MapType}): the
   * conformance suite's map of another layout, pinned where a writer expects traces_ctx_v1.
   */
  public static BpfMap create(int type, String name, int keySize, int valueSize, int maxEntries) {
    Libbpf.ensureLoaded();
    try (Arena call = Arena.ofConfined()) {
      LibbpfLog.begin();
      int fd = (int) Libbpf.H.MAP_CREATE.invokeExact(type, call.allocateFrom(name), keySize, valueSize, maxEntries, MemorySegment.NULL);
      if (fd < 0) {
        throw new BpfMapException("create map " + name, -fd, LibbpfLog.recent());
      }
      return new BpfMap(name, null, MemorySegment.NULL, fd);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  public String name() {
    return name;
  }

  /** The map's fd; for a map of an object, valid once the object is loaded. */
  public int fd() {
    if (object == null) {
      if (ownFd < 0) {
        throw new IllegalStateException("map " + name + " is closed");
      }
      return ownFd;
    }
    object.requireLoaded("map " + name);
    try {
      return (int) Libbpf.H.MAP_FD.invokeExact(handle);
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /** Before load: use an existing map (for example a pinned one) instead of creating one. */
  public void reuseFd(int fd) {
    requireUnloadedObjectMap("reuse fd");
    call("reuse fd", () -> (int) Libbpf.H.MAP_REUSE_FD.invokeExact(handle, fd));
  }

  /** Before load: the map's size (for ring buffers, bytes: a power of two of pages). */
  public void setMaxEntries(int maxEntries) {
    requireUnloadedObjectMap("set max_entries");
    call("set max_entries", () -> (int) Libbpf.H.MAP_SET_MAX_ENTRIES.invokeExact(handle, maxEntries));
  }

  /** Pins the map at {@code path}; the directory must exist. */
  public void pin(Path path) {
    int fd = fd();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment p = call.allocateFrom(path.toString());
      call("pin " + path, () -> (int) Libbpf.H.OBJ_PIN.invokeExact(fd, p));
    }
  }

  /** The kernel's description of the map (cached: it does not change). */
  public MapInfo info() {
    if (info == null) {
      info = MapInfos.query(fd(), "map " + name);
    }
    return info;
  }

  public Optional<byte[]> lookup(byte[] key) {
    int fd = fd();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment k = call.allocateFrom(JAVA_BYTE, key);
      MemorySegment v = call.allocate(valueBufferSize());
      LibbpfLog.begin();
      int rc = (int) Libbpf.H.MAP_LOOKUP_ELEM.invokeExact(fd, k, v);
      if (rc == -Errno.ENOENT) {
        return Optional.empty();
      }
      if (rc < 0) {
        throw new BpfMapException("map " + name + ": lookup", -rc, LibbpfLog.recent());
      }
      return Optional.of(v.toArray(JAVA_BYTE));
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  public void update(byte[] key, byte[] value) {
    int fd = fd();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment k = call.allocateFrom(JAVA_BYTE, key);
      MemorySegment v = call.allocateFrom(JAVA_BYTE, value);
      call("map " + name + ": update", () -> (int) Libbpf.H.MAP_UPDATE_ELEM.invokeExact(fd, k, v, (long) BPF_ANY));
    }
  }

  /** Deletes a key; {@code false} when it was not there. */
  public boolean delete(byte[] key) {
    int fd = fd();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment k = call.allocateFrom(JAVA_BYTE, key);
      LibbpfLog.begin();
      int rc = (int) Libbpf.H.MAP_DELETE_ELEM.invokeExact(fd, k);
      if (rc == -Errno.ENOENT) {
        return false;
      }
      if (rc < 0) {
        throw new BpfMapException("map " + name + ": delete", -rc, LibbpfLog.recent());
      }
      return true;
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

  /**
   * Every key at the time of the walk, once each. Entries added or removed meanwhile may or may
   * not show: when the key the walk stands on is deleted, the kernel starts over from the first
   * one, so the walk is bounded and deduplicated.
   */
  public List<byte[]> keys() {
    int fd = fd();
    int keySize = info().keySize();
    long steps = 2L * Math.max(info().maxEntries(), 1) + 16;
    java.util.Set<ByteBuffer> keys = new java.util.LinkedHashSet<>();
    try (Arena call = Arena.ofConfined()) {
      MemorySegment prev = MemorySegment.NULL;
      MemorySegment next = call.allocate(keySize);
      for (long step = 0; step < steps; step++) {
        int rc = (int) Libbpf.H.MAP_GET_NEXT_KEY.invokeExact(fd, prev, next);
        if (rc == -Errno.ENOENT) {
          break;
        }
        if (rc < 0) {
          throw new BpfMapException("map " + name + ": next key", -rc, "");
        }
        keys.add(ByteBuffer.wrap(next.toArray(JAVA_BYTE)));
        if (prev.equals(MemorySegment.NULL)) {
          prev = call.allocate(keySize);
        }
        MemorySegment.copy(next, 0, prev, 0, keySize);
      }
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
    return keys.stream().map(ByteBuffer::array).toList();
  }

  /** For a per-CPU array of u64 counters: the sum over all CPUs of entry {@code index}. */
  public long sumPerCpu(int index) {
    return lookup(LittleEndian.u32(index))
        .map(
            v -> {
              ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
              long sum = 0;
              while (b.remaining() >= 8) {
                sum += b.getLong();
              }
              return sum;
            })
        .orElse(0L);
  }

  /** A lookup's value buffer (cached: the possible CPUs are read from sysfs, and stats are read every drain). */
  private long valueBufferSize() {
    if (valueBufferSize < 0) {
      MapInfo i = info();
      valueBufferSize = MapType.isPerCpu(i.type()) ? (long) Cpus.possible() * ((i.valueSize() + 7) & ~7) : i.valueSize();
    }
    return valueBufferSize;
  }

  private void requireUnloadedObjectMap(String what) {
    if (object == null) {
      throw new IllegalStateException("map " + name + ": " + what + " applies to a map of an object");
    }
    object.requireOpen();
    if (object.isLoaded()) {
      throw new IllegalStateException("map " + name + ": " + what + " must happen before load");
    }
  }

  @FunctionalInterface
  private interface IntCall {
    int invoke() throws Throwable;
  }

  private void call(String what, IntCall call) {
    LibbpfLog.begin();
    int rc;
    try {
      rc = call.invoke();
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
    if (rc < 0) {
      throw new BpfMapException(what.startsWith("map ") ? what : "map " + name + ": " + what, -rc, LibbpfLog.recent());
    }
  }

  @Override
  public void close() {
    if (object == null && ownFd >= 0) {
      Fds.close(ownFd);
      ownFd = -1;
    }
  }

  @Override
  public String toString() {
    return "BpfMap[" + name + "]";
  }
}
