package dev.braid.profiler;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.OptionalLong;

/**
 * Turns a sample's program counters into {@link Location}s: kernel frames from kallsyms, Go
 * frames from pclntab (with inlined calls), other native frames from ELF symbols.
 *
 * <p>Caches each process's mappings (re-read when an address falls outside them) and each binary's
 * symbols by its GNU build id (by file, device and inode, when it has none): the same binary in
 * many containers, or copied, is read once. Not thread-safe: one thread
 * symbolizes. Owns the mapped binaries; {@link #close()} releases them.
 */
public final class Symbolizer implements AutoCloseable {
  /** Mappings are read again for an unknown address at most this often per process. */
  private static final long REREAD_NANOS = 1_000_000_000L;
  /** Binaries kept open at most; the least recently used one is closed beyond. */
  private static final int MAX_BINARIES = 64;
  /**
   * A binary no sample has needed for this long is closed: a host where binaries come and go
   * (deploys, builds) keeps the symbols of what runs, not of everything that ever ran (a Go
   * binary's tables take megabytes).
   */
  private static final Duration UNUSED_FOR = Duration.ofMinutes(5);

  private final Map<Integer, ProcessMaps> processes = new HashMap<>();
  private final Map<Integer, Long> readAt = new HashMap<>();
  private final Cache<String, Optional<BinarySymbols>> binaries =
      Caffeine.newBuilder()
          .maximumSize(MAX_BINARIES)
          .expireAfterAccess(UNUSED_FOR)
          .executor(Runnable::run) // evicted on the symbolizing thread, which owns the binaries
          .<String, Optional<BinarySymbols>>removalListener((key, symbols, cause) -> {
            if (symbols != null) {
              symbols.ifPresent(BinarySymbols::close);
            }
          })
          .build();
  /** Which cache key (build id, else file) a file (device:inode) has. */
  private final Map<String, String> cacheKeys = new HashMap<>();
  private final Map<String, Mapping> mappings = new HashMap<>();
  private final List<String> read = new ArrayList<>(); // cache keys, in the order read
  /** Frames already symbolized, per process, by address (and whether it was a leaf). */
  private final Map<Integer, Map<Long, Frame>> frames = new HashMap<>();
  private final Map<Long, Location> kernelFrames = new HashMap<>();
  private Kallsyms kallsyms;

  /** A symbolized user frame; {@code framelessGo}: see {@link #isFramelessGo}. */
  private record Frame(Location location, boolean framelessGo) {}

  /** Frames cached per process (and kernel frames) at most; the cache starts over beyond. */
  private static final int MAX_CACHED_FRAMES = 1 << 16;

  /** The sample's stack as locations, leaf first: kernel frames, then user frames. */
  public List<Location> symbolize(StackSample sample) {
    List<Location> stack = new ArrayList<>(sample.kernelStack().length + sample.userStack().length);
    long[] kernel = sample.kernelStack();
    for (int i = 0; i < kernel.length; i++) {
      stack.add(kernelFrame(kernel[i], i == 0));
    }
    long[] user = sample.userStack();
    Map<Long, Frame> cache = frames.computeIfAbsent(sample.pid(), p -> new HashMap<>());
    // Callers' PCs are return addresses: the call itself is the byte before. The first is the
    // thread's user-mode PC: exact where an interrupt or a fault stopped it (ip - 1 could be
    // another line, or the previous function), but after the SYSCALL instruction in a system call.
    boolean userPcExact = kernel.length == 0 || !enteredBySyscall(stack.getLast());
    for (int i = 0; i < user.length; i++) {
      Frame frame = userFrame(cache, sample.pid(), user[i], i == 0 && userPcExact);
      stack.add(frame.location());
      if (i == 0 && frame.framelessGo() && sample.userSpWord() != 0 && (user.length == 1 || user[1] != sample.userSpWord())) {
        // The walk follows frame pointers, which a Go function without a frame does not set up:
        // its caller is missing, and its return address is the word at the stack pointer.
        stack.add(userFrame(cache, sample.pid(), sample.userSpWord(), false).location());
      }
      if (isGoStackRoot(frame.location())) {
        break;
      }
    }
    return stack;
  }

  /**
   * The functions that begin a Go stack (those the runtime marks TOPFRAME): nothing calls them.
   * Past them, a frame-pointer walk reads stale memory: a thread the runtime starts without cgo
   * keeps its creator's frame pointer, so beyond runtime.mstart lie frames of whatever goroutine
   * now uses that stack, not callers.
   */
  private static final Set<String> GO_STACK_ROOTS = Set.of("runtime.goexit", "runtime.mstart", "runtime.rt0_go");

  private static boolean isGoStackRoot(Location l) {
    return l.kind() == Location.Kind.GO && !l.lines().isEmpty() && GO_STACK_ROOTS.contains(l.lines().getLast().function());
  }

  /** Whether the outermost kernel frame is the system call entry (entry_SYSCALL_64 on x86-64). */
  private static boolean enteredBySyscall(Location outermostKernelFrame) {
    return !outermostKernelFrame.lines().isEmpty() && outermostKernelFrame.lines().getFirst().function().startsWith("entry_SYSCALL");
  }

  /** A user frame, from the cache; one that could not be symbolized is looked at again next time. */
  private Frame userFrame(Map<Long, Frame> cache, int pid, long pc, boolean leaf) {
    long key = leaf ? pc : ~pc;
    Frame f = cache.get(key);
    if (f == null) {
      f = new Frame(userLocation(pid, pc, leaf), isFramelessGo(pid, pc, leaf));
      if (!f.location().lines().isEmpty()) {
        if (cache.size() >= MAX_CACHED_FRAMES) {
          cache.clear();
        }
        cache.put(key, f);
      }
    }
    return f;
  }

  private Location kernelFrame(long pc, boolean leaf) {
    long key = leaf ? pc : ~pc;
    Location l = kernelFrames.get(key);
    if (l == null) {
      l = kernelLocation(pc, leaf);
      if (kernelFrames.size() >= MAX_CACHED_FRAMES) {
        kernelFrames.clear();
      }
      kernelFrames.put(key, l);
    }
    return l;
  }

  /** Whether {@code pc} is in Go code whose stack pointer is where it was at entry (pcsp 0). */
  private boolean isFramelessGo(int pid, long pc, boolean leaf) {
    Optional<ProcessMaps.Region> region = region(pid, pc);
    if (region.isEmpty() || !region.get().isFile()) {
      return false;
    }
    Optional<BinarySymbols> symbols = symbolsOf(pid, region.get());
    if (symbols.isEmpty()) {
      return false;
    }
    long lookup = leaf ? pc : pc - 1;
    OptionalLong address = symbols.get().addressOfFileOffset(lookup - region.get().start() + region.get().offset());
    return address.isPresent() && symbols.get().spDelta(address.getAsLong()).orElse(-1) == 0;
  }

  /** Drops what is cached for a process that exited. */
  public void forgetProcess(int pid) {
    frames.remove(pid);
    processes.remove(pid);
    readAt.remove(pid);
    mappings.keySet().removeIf(k -> k.startsWith(pid + ":"));
  }

  private Location kernelLocation(long pc, boolean leaf) {
    if (kallsyms == null) {
      kallsyms = Kallsyms.read();
    }
    long lookup = leaf ? pc : pc - 1;
    return new Location(pc, Mapping.KERNEL, kallsyms.functionAt(lookup).map(f -> List.of(new Line(f, "", 0))).orElse(List.of()), Location.Kind.KERNEL);
  }

  private Location userLocation(int pid, long pc, boolean leaf) {
    Optional<ProcessMaps.Region> region = region(pid, pc);
    if (region.isEmpty()) {
      return new Location(pc, Mapping.UNKNOWN, List.of(), Location.Kind.NATIVE);
    }
    ProcessMaps.Region r = region.get();
    Mapping mapping = mappingOf(pid, r);
    if (!r.isFile()) {
      return new Location(pc, mapping, List.of(), Location.Kind.NATIVE);
    }
    Optional<BinarySymbols> symbols = symbolsOf(pid, r);
    if (symbols.isEmpty()) {
      return new Location(pc, mapping, List.of(), Location.Kind.NATIVE);
    }
    long lookup = leaf ? pc : pc - 1;
    OptionalLong address = symbols.get().addressOfFileOffset(lookup - r.start() + r.offset());
    if (address.isEmpty()) {
      return new Location(pc, mapping, List.of(), Location.Kind.NATIVE);
    }
    return symbols.get().location(pc, mapping, address.getAsLong());
  }

  private Optional<ProcessMaps.Region> region(int pid, long pc) {
    ProcessMaps maps = processes.get(pid);
    Optional<ProcessMaps.Region> region = maps == null ? Optional.empty() : maps.regionOf(pc);
    long now = System.nanoTime();
    if (region.isEmpty() && (maps == null || now - readAt.getOrDefault(pid, 0L) > REREAD_NANOS)) {
      // New process, or a new mapping (dlopen): read the maps again, but not for every bogus
      // frame of a broken stack walk. A process that exited keeps its last snapshot.
      readAt.put(pid, now);
      Optional<ProcessMaps> fresh = ProcessMaps.read(pid);
      if (fresh.isPresent()) {
        processes.put(pid, fresh.get());
        region = fresh.get().regionOf(pc);
      }
    }
    return region;
  }

  private Mapping mappingOf(int pid, ProcessMaps.Region r) {
    String key = pid + ":" + Long.toHexString(r.start());
    return mappings.computeIfAbsent(
        key,
        k -> {
          String buildId = "";
          if (r.isFile()) {
            buildId = symbolsOf(pid, r).map(BinarySymbols::buildId).orElse("");
          }
          return new Mapping(r.start(), r.end(), r.offset(), r.path(), buildId);
        });
  }

  /** The symbols of a mapped file, read once per build id. */
  private Optional<BinarySymbols> symbolsOf(int pid, ProcessMaps.Region r) {
    String file = fileKey(r);
    String key = cacheKeys.get(file);
    Optional<BinarySymbols> cached = key == null ? null : binaries.getIfPresent(key);
    if (cached != null) {
      return cached;
    }
    // /proc/PID/root/ reaches the file as the process sees it (containers included).
    Path path = Path.of("/proc", Integer.toString(pid), "root", r.path());
    String cacheKey = BinarySymbols.buildIdOf(path).map(id -> "build-id:" + id).orElse(file);
    if (cacheKeys.size() > 16 * MAX_BINARIES) {
      cacheKeys.clear(); // files come and go (deploys): forget the old ones now and then
    }
    cacheKeys.put(file, cacheKey);
    return binaries.get(
        cacheKey,
        k -> {
          if (read.size() < 1024) {
            read.add(k);
          }
          return BinarySymbols.open(path);
        });
  }

  /** The binaries read so far, by cache key ({@code build-id:HEX}, or device:inode), in order. */
  List<String> binariesRead() {
    return List.copyOf(read);
  }

  private static String fileKey(ProcessMaps.Region r) {
    return r.device() + ":" + r.inode();
  }

  @Override
  public void close() {
    binaries.invalidateAll(); // closes each, through the removal listener
  }
}
