package dev.braid.elf.go;

import dev.braid.elf.ElfException;
import dev.braid.elf.ElfFile;
import dev.braid.elf.ElfSymbol;
import dev.braid.elf.Section;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The function table and source positions of a Go binary (Go 1.18 through 1.26, amd64), read from its pclntab the
 * way the Go runtime reads it. Works on stripped ({@code -s -w}) and PIE binaries, internally or externally linked.
 * Every address taken or returned is a link-time virtual address; callers subtract a PIE's load bias first. Go text
 * is assumed to be one section, as the linker always makes it on amd64 (it splits text only for architectures
 * with short branches).
 *
 * <p><b>Ownership.</b> Reads lazily from the {@link ElfFile}'s mapping, which the caller owns: keep the file open
 * while this is in use (after it is closed, lookups throw {@link IllegalStateException}).
 *
 * <p><b>Thread-safety.</b> Safe for any number of concurrent readers. The function table is parsed once, in
 * {@link #read}; each function's pc tables are decoded on first use and cached (a race may decode twice, harmlessly).
 *
 * <p><b>Errors.</b> {@link UnsupportedGoBinaryException} when the file is not Go or its pclntab format is not
 * supported; {@link ElfException} when the pclntab is corrupt. Lookups never throw for unknown pcs: they return
 * empty.
 */
public final class Pclntab {
  private static final int MAX_INLINE_DEPTH = 256;
  private static final int INLINE_TREES_TO_CHECK = 64;

  private final Path file;
  private final PclnHeader header;
  private final ByteBuffer funcnametab;
  private final ByteBuffer cutab;
  private final ByteBuffer filetab;
  private final ByteBuffer pctab;
  private final ByteBuffer pclntable;
  private final long textStart;
  private final List<GoFunction> functions;
  private final long[] entries;
  private final int[] funcOffsets;
  private final Map<String, GoFunction> byName;
  private final Optional<InlineTree> inlineTree;
  private final AtomicReferenceArray<FuncTables> tables;
  private final Map<Long, String> fileNames = new ConcurrentHashMap<>();

  private Pclntab(Path file, PclntabSource source, PclnHeader header, long textStart, Optional<InlineTree> inlineTree) {
    ByteBuffer data = source.data();
    this.file = file;
    this.header = header;
    this.funcnametab = tail(data, header.funcnameOffset());
    this.cutab = tail(data, header.cuOffset());
    this.filetab = tail(data, header.filetabOffset());
    this.pctab = tail(data, header.pctabOffset());
    this.pclntable = tail(data, header.pclnOffset());
    this.textStart = textStart;
    int n = header.nfunc();
    this.entries = new long[n];
    this.funcOffsets = new int[n];
    this.functions = readFunctions();
    this.inlineTree = inlineTree.filter(this::plausible);
    this.tables = new AtomicReferenceArray<>(n);
    Map<String, GoFunction> names = new HashMap<>(n * 2);
    for (GoFunction f : functions) {
      names.putIfAbsent(f.name(), f);
    }
    this.byName = Collections.unmodifiableMap(names);
  }

  /**
   * Reads the pclntab of {@code elf}.
   *
   * @throws UnsupportedGoBinaryException if {@code elf} has no pclntab (not Go) or one of a format other than Go
   *     1.18+
   * @throws ElfException if the pclntab is corrupt
   */
  public static Pclntab read(ElfFile elf) {
    Path file = elf.path();
    PclntabSource source = PclntabSource.locate(elf).orElseThrow(() -> new UnsupportedGoBinaryException(file,
        UnsupportedGoBinaryException.Reason.NOT_GO,
        "not a Go binary: no .gopclntab section and no runtime.pclntab symbol"));
    PclnHeader header = PclnHeader.parse(file, source.data());
    Optional<ModuleData> md = source.moduleData().or(() -> ModuleData.find(elf, source.address(), header));
    long text = md.map(ModuleData::text).orElseGet(() -> textWithoutModuleData(elf, source, header));
    try {
      return new Pclntab(file, source, header, text, inlineTree(elf, header, md));
    } catch (IndexOutOfBoundsException e) {
      throw new ElfException(file, "malformed pclntab: " + e.getMessage(), e);
    }
  }

  /**
   * The text base when moduledata cannot be found: pcHeader.textStart (while linkers still stored it; relocated in a
   * PIE), else the runtime.text symbol, else the .text section (what cmd/internal/objfile assumes, wrong by the C
   * code in front when a system linker linked the binary).
   */
  private static long textWithoutModuleData(ElfFile elf, PclntabSource source, PclnHeader header) {
    OptionalLong fromHeader = elf.pointerAt(source.address() + PclnHeader.TEXT_START_OFFSET);
    if (fromHeader.isPresent() && fromHeader.getAsLong() != 0) {
      return fromHeader.getAsLong();
    }
    return elf.symbol("runtime.text").map(ElfSymbol::value)
        .or(() -> elf.section(".text").map(Section::address))
        .orElseThrow(() -> new ElfException(elf.path(), "cannot find the start of Go text (no moduledata, "
            + "runtime.text symbol or .text section)"));
  }

  /** The inline trees' base, go:func.*: from its symbol when present, else from moduledata.gofunc. */
  private static Optional<InlineTree> inlineTree(ElfFile elf, PclnHeader header, Optional<ModuleData> md) {
    OptionalLong gofunc = OptionalLong.empty();
    for (String name : header.format().gofuncSymbols) {
      Optional<ElfSymbol> s = elf.symbol(name);
      if (s.isPresent()) {
        gofunc = OptionalLong.of(s.get().value());
        break;
      }
    }
    if (gofunc.isEmpty() && md.isPresent() && md.get().gofunc() != 0) {
      gofunc = OptionalLong.of(md.get().gofunc());
    }
    if (gofunc.isEmpty()) {
      return Optional.empty();
    }
    long base = gofunc.getAsLong();
    return elf.sectionAt(base)
        .flatMap(s -> elf.bytesAt(base, s.address() + s.size() - base))
        .map(region -> new InlineTree(region, header.format()));
  }

  private List<GoFunction> readFunctions() {
    int n = header.nfunc();
    // functab: nfunc (entryOff, funcOff) pairs of uint32, then the end-of-text entryOff.
    long end = textStart + Integer.toUnsignedLong(pclntable.getInt(8 * n));
    for (int i = 0; i < n; i++) {
      entries[i] = textStart + Integer.toUnsignedLong(pclntable.getInt(8 * i));
      funcOffsets[i] = pclntable.getInt(8 * i + 4);
      if (i > 0 && entries[i] < entries[i - 1]) {
        throw new ElfException(file, "malformed pclntab: functab not sorted at function " + i);
      }
    }
    List<GoFunction> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String name = name(record(i).nameOff());
      out.add(new GoFunction(name, entries[i], i + 1 < n ? entries[i + 1] : end));
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * Checks the first entry of a sample of the functions' inline trees, so that a go:func.* from a moduledata layout
   * braid misjudged disables inline expansion instead of producing wrong frames.
   */
  private boolean plausible(InlineTree tree) {
    int n = functions.size();
    int checked = 0;
    for (int i = 0; i < n && checked < INLINE_TREES_TO_CHECK; i += Math.max(1, n / (4 * INLINE_TREES_TO_CHECK))) {
      long offset = record(i).funcdata(FuncRecord.FUNCDATA_INL_TREE);
      if (offset != FuncRecord.NO_FUNCDATA) {
        if (!tree.plausible(offset, functions.get(i).end() - entries[i], funcnametab.limit())) {
          return false;
        }
        checked++;
      }
    }
    return true;
  }

  /** All functions, sorted by entry. */
  public List<GoFunction> functions() {
    return functions;
  }

  /** The function called {@code name} (as {@code go tool nm} spells it); the first if several share it. */
  public Optional<GoFunction> function(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The function whose [entry, end) holds {@code pc}. */
  public Optional<GoFunction> functionAt(long pc) {
    int i = indexAt(pc);
    return i < 0 ? Optional.empty() : Optional.of(functions.get(i));
  }

  /** The link-time address of the start of Go text (moduledata.text), the base of every function entry. */
  public long textStart() {
    return textStart;
  }

  /** Whether inline trees could be located; without them {@link #frames} returns only physical frames. */
  public boolean hasInlineTrees() {
    return inlineTree.isPresent();
  }

  /**
   * The source positions at {@code pc}, innermost first, expanding functions the compiler inlined: each inlined
   * frame carries the position inside the inlined function, and the next frame the call site in its caller. The
   * last frame is the physical function. Frames name functions as runtime.Frame.Function does, which differs from
   * {@link GoFunction#name} only for generic functions ("pkg.F[...]" instead of "pkg.F[go.shape.int]").
   *
   * <p>When the inline tree is missing or inconsistent, only the physical frame is returned (with the innermost
   * position), never a guessed chain. Empty when no function holds {@code pc}.
   *
   * <p>{@code pc} should be an instruction address; for a return address from a stack walk pass {@code pc - 1}, as
   * the Go runtime does, so that the position is the call's.
   */
  public List<GoFrame> frames(long pc) {
    int i = indexAt(pc);
    if (i < 0) {
      return List.of();
    }
    FuncTables t = tables(i);
    long offset = pc - entries[i];
    GoFrame physical = frame(forPrint(functions.get(i).name()), t, offset, false);
    if (inlineTree.isEmpty() || t.inlineTreeOffset() == FuncRecord.NO_FUNCDATA) {
      return List.of(physical);
    }
    long size = functions.get(i).end() - entries[i];
    List<GoFrame> frames = new ArrayList<>(4);
    int index = t.inlineIndex().valueAt(offset);
    while (index >= 0) {
      Optional<InlineTree.Call> call = inlineTree.get().call(t.inlineTreeOffset(), index);
      if (call.isEmpty() || frames.size() == MAX_INLINE_DEPTH || !validName(call.get().nameOff())
          || call.get().parentPc() < 0 || call.get().parentPc() >= size) {
        return List.of(physical);
      }
      frames.add(frame(forPrint(name(call.get().nameOff())), t, offset, true));
      offset = call.get().parentPc();
      index = t.inlineIndex().valueAt(offset);
    }
    frames.add(frame(physical.function(), t, offset, false));
    return List.copyOf(frames);
  }

  /**
   * How far the stack pointer is below its value at the function's entry when the function is at
   * {@code pc} (the pcsp table): 0 in a function without a frame, and at any function's entry,
   * where the return address is the word at the stack pointer. Empty when no function holds
   * {@code pc} or the table does not cover it.
   */
  public OptionalInt spDelta(long pc) {
    int i = indexAt(pc);
    if (i < 0) {
      return OptionalInt.empty();
    }
    int delta = tables(i).sp().valueAt(pc - entries[i]);
    return delta < 0 ? OptionalInt.empty() : OptionalInt.of(delta);
  }

  /** The bytes of {@code data} from {@code offset} on, little-endian (slices start out big-endian). */
  private static ByteBuffer tail(ByteBuffer data, int offset) {
    return data.slice(offset, data.limit() - offset).order(ByteOrder.LITTLE_ENDIAN);
  }

  private int indexAt(long pc) {
    int i = Arrays.binarySearch(entries, pc);
    if (i < 0) {
      i = -i - 2;
    }
    return i >= 0 && functions.get(i).contains(pc) ? i : -1;
  }

  private FuncRecord record(int i) {
    return new FuncRecord(pclntable, funcOffsets[i], header.format());
  }

  private FuncTables tables(int i) {
    FuncTables t = tables.get(i);
    if (t == null) {
      FuncRecord r = record(i);
      long size = functions.get(i).end() - entries[i];
      int q = header.quantum();
      t = new FuncTables(PcValueTable.decode(pctab, r.pcfile(), q, size),
          PcValueTable.decode(pctab, r.pcln(), q, size),
          PcValueTable.decode(pctab, r.pcdata(FuncRecord.PCDATA_INL_TREE_INDEX), q, size), r.cuOffset(),
          r.funcdata(FuncRecord.FUNCDATA_INL_TREE), PcValueTable.decode(pctab, r.pcsp(), q, size));
      tables.compareAndSet(i, null, t);
    }
    return t;
  }

  /**
   * The frame of {@code function} at {@code offset} in the function whose tables are {@code t}, positioned as
   * runtime.funcline1 does: pcfile gives an index into the function's CU's slice of cutab, which gives an offset into
   * filetab; a missing file or line gives "?" and 0.
   */
  private GoFrame frame(String function, FuncTables t, long offset, boolean inlined) {
    int fileno = t.file().valueAt(offset);
    int line = t.line().valueAt(offset);
    String file = fileno < 0 || line < 0 ? null : fileName(t.cuOffset() + fileno);
    return file == null ? new GoFrame(function, "?", 0, inlined) : new GoFrame(function, file, line, inlined);
  }

  private String fileName(long cutabIndex) {
    long slot = cutabIndex * 4;
    if (slot + 4 > cutab.limit()) {
      return null;
    }
    long fileOffset = Integer.toUnsignedLong(cutab.getInt((int) slot));
    if (fileOffset == 0xffffffffL || fileOffset >= filetab.limit()) {
      return null;
    }
    return fileNames.computeIfAbsent(fileOffset, o -> DataCursor.cstringAt(filetab, o.intValue()));
  }

  /**
   * A function name as runtime.Frame.Function reports it (runtime.funcNameForPrint, Go 1.18+): the type arguments of
   * a generic function's instantiation, "[go.shape.string]", become "[...]".
   */
  static String forPrint(String name) {
    int open = name.indexOf('[');
    int close = name.lastIndexOf(']');
    return open < 0 || close <= open ? name : name.substring(0, open) + "[...]" + name.substring(close + 1);
  }

  private boolean validName(int nameOff) {
    return nameOff >= 0 && nameOff < funcnametab.limit();
  }

  private String name(int nameOff) {
    if (!validName(nameOff)) {
      throw new ElfException(file, "malformed pclntab: function name offset " + nameOff + " out of range");
    }
    return DataCursor.cstringAt(funcnametab, nameOff);
  }
}
