package dev.braid.bpf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The contract of {@code traces_ctx_v1} (spec/traces_ctx_v1.md): its shape, its pin, and how an
 * object that declares the map shares the pinned one.
 *
 * <p>Whoever starts first creates and pins; later ones reuse the pin. A pin whose type, sizes,
 * max_entries or flags differ is refused with an {@link IncompatiblePinException} that names each
 * difference, and is left untouched.
 */
public final class TracesContextMap {
  public static final String NAME = "traces_ctx_v1";
  public static final int TYPE = MapType.LRU_HASH;
  public static final int KEY_SIZE = 8;
  public static final int VALUE_SIZE = TraceContext.SIZE;
  public static final int MAX_ENTRIES = 1 << 14;
  public static final int FLAGS = 0;
  /** The pin directory's mode: sticky, owner only. */
  public static final int DIRECTORY_MODE = 01700;
  public static final Path DEFAULT_PIN_ROOT = Path.of("/sys/fs/bpf");

  private TracesContextMap() {}

  /** {@code <pinRoot>/otel/traces_ctx_v1}. */
  public static Path pinPath(Path pinRoot) {
    return pinRoot.resolve("otel").resolve(NAME);
  }

  /** The map key for a thread: {@code tgid << 32 | tid}, little-endian as the kernel stores it. */
  public static byte[] key(int tgid, int tid) {
    return LittleEndian.u64(((long) tgid << 32) | Integer.toUnsignedLong(tid));
  }

  /** The (tgid, tid) of a key. */
  public static long keyValue(byte[] key) {
    return LittleEndian.u64At(key, 0);
  }

  /** How a map differs from the contract; empty when it is compatible. */
  public static List<String> differences(MapInfo info) {
    List<String> diffs = new ArrayList<>();
    if (info.type() != TYPE) {
      diffs.add("type " + info.typeName() + " (want " + MapType.name(TYPE) + ")");
    }
    if (info.keySize() != KEY_SIZE) {
      diffs.add("key size " + info.keySize() + " (want " + KEY_SIZE + ")");
    }
    if (info.valueSize() != VALUE_SIZE) {
      diffs.add("value size " + info.valueSize() + " (want " + VALUE_SIZE + ")");
    }
    if (info.maxEntries() != MAX_ENTRIES) {
      diffs.add("max_entries " + info.maxEntries() + " (want " + MAX_ENTRIES + ")");
    }
    if (info.flags() != FLAGS) {
      diffs.add("flags 0x" + Integer.toHexString(info.flags()) + " (want 0x" + Integer.toHexString(FLAGS) + ")");
    }
    return diffs;
  }

  /**
   * Opens the pinned map, checking it against the contract. Empty when nothing is pinned yet.
   *
   * @throws IncompatiblePinException when the pin has another layout
   */
  public static Optional<BpfMap> openPinned(Path pinRoot) {
    Path path = pinPath(pinRoot);
    Optional<BpfMap> map = BpfMap.openPinned(path);
    map.ifPresent(
        m -> {
          List<String> diffs = differences(m.info());
          if (!diffs.isEmpty()) {
            m.close();
            throw new IncompatiblePinException(path, diffs);
          }
        });
    return map;
  }

  /**
   * Shares the pinned map with an object that declares {@code traces_ctx_v1}: call {@link
   * #beforeLoad} before {@link BpfObject#load()} and {@link #afterLoad} after it.
   */
  public static final class Sharing implements AutoCloseable {
    private final Path pinRoot;
    private final BpfObject object;
    private final BpfMap pinned; // null: this object creates the map and pins it

    private Sharing(Path pinRoot, BpfObject object, BpfMap pinned) {
      this.pinRoot = pinRoot;
      this.object = object;
      this.pinned = pinned;
    }

    /** True when the map was pinned by someone else before this object loaded. */
    public boolean reusedPin() {
      return pinned != null;
    }

    /** Pins the object's new map if no pin existed; the object must be loaded. */
    public void afterLoad() {
      if (pinned != null) {
        return;
      }
      Path dir = pinPath(pinRoot).getParent();
      makePinDirectory(dir);
      object.map(NAME).pin(pinPath(pinRoot));
    }

    /** Closes the fd of the reused pin (the object keeps its own reference). */
    @Override
    public void close() {
      if (pinned != null) {
        pinned.close();
      }
    }
  }

  /**
   * Before load: if a compatible pin exists, the object's map becomes that map.
   *
   * @throws IncompatiblePinException when the pin has another layout
   * @throws BpfNotSupportedException when {@code pinRoot} is not a mounted bpffs
   */
  public static Sharing beforeLoad(BpfObject object, Path pinRoot) {
    requireBpffs(pinRoot);
    Optional<BpfMap> existing = openPinned(pinRoot);
    try {
      existing.ifPresent(m -> object.map(NAME).reuseFd(m.fd()));
    } catch (RuntimeException e) {
      existing.ifPresent(BpfMap::close);
      throw e;
    }
    return new Sharing(pinRoot, object, existing.orElse(null));
  }

  /**
   * Opens and loads an object that declares traces_ctx_v1, with its map shared through the pin
   * under {@code pinRoot} (reused, or created and pinned). The caller owns the loaded object; on
   * failure nothing is left open.
   *
   * @throws IncompatiblePinException when a map of another layout is pinned there
   */
  public static BpfObject loadShared(String objectResource, Path pinRoot) {
    return loadShared(objectResource, pinRoot, o -> {});
  }

  /** As {@link #loadShared(String, Path)}, with {@code beforeLoad} run on the opened object. */
  public static BpfObject loadShared(String objectResource, Path pinRoot, Consumer<BpfObject> beforeLoad) {
    try {
      return loadSharedOnce(objectResource, pinRoot, beforeLoad);
    } catch (BpfMapException e) {
      if (e.errno() != Errno.EEXIST) {
        throw e;
      }
      // Another writer or reader pinned the map between our look and our pin: use theirs.
      return loadSharedOnce(objectResource, pinRoot, beforeLoad);
    }
  }

  private static BpfObject loadSharedOnce(String objectResource, Path pinRoot, Consumer<BpfObject> beforeLoad) {
    BpfObject object = BpfObject.openResource(objectResource);
    try (Sharing sharing = beforeLoad(object, pinRoot)) {
      beforeLoad.accept(object);
      object.load();
      sharing.afterLoad();
      return object;
    } catch (RuntimeException e) {
      object.close();
      throw e;
    }
  }

  /** Fails with the fix when {@code pinRoot} is not on a bpf filesystem. */
  public static void requireBpffs(Path pinRoot) {
    String type;
    try {
      type = Files.getFileStore(pinRoot).type();
    } catch (IOException e) {
      throw new BpfNotSupportedException(
          "pin root " + pinRoot + ": " + e.getMessage() + "; mount bpffs there: mount -t bpf bpf " + pinRoot, e);
    }
    if (!type.equals("bpf")) {
      throw new BpfNotSupportedException(
          "pin root " + pinRoot + " is on a " + type + " file system, not bpffs; mount it: mount -t bpf bpf " + pinRoot,
          null);
    }
  }

  private static void makePinDirectory(Path dir) {
    try (Arena call = Arena.ofConfined()) {
      MemorySegment path = call.allocateFrom(dir.toString());
      MemorySegment errno = Libbpf.newErrnoState(call);
      int rc = (int) Libbpf.C.MKDIR.invokeExact(errno, path, DIRECTORY_MODE);
      if (rc != 0) {
        int e = Libbpf.errno(errno);
        if (e == Errno.EEXIST) {
          return; // another writer made it; its mode is its own
        }
        throw new BpfMapException("pin directory " + dir + ": mkdir", e, "");
      }
      // mkdir applies the umask; the contract wants exactly 01700.
      rc = (int) Libbpf.C.CHMOD.invokeExact(errno, path, DIRECTORY_MODE);
      if (rc != 0) {
        throw new BpfMapException("pin directory " + dir + ": chmod", Libbpf.errno(errno), "");
      }
    } catch (Throwable t) {
      throw Libbpf.rethrow(t);
    }
  }

}
