package dev.braid.elf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * A read-only, memory-mapped x86-64 ELF64 little-endian file.
 *
 * <p><b>Ownership.</b> {@link #open} maps the whole file; {@link #close} unmaps it (idempotent). Buffers returned by
 * {@link #sectionData} and {@link #bytesAt} for uncompressed data are views of the mapping, as are the readers built
 * on this file ({@code Pclntab}, {@code GoDwarf}): they must not be used after {@code close()}, and if they are, reads
 * fail with {@link IllegalStateException} (never a crash). Decompressed sections, {@link SymbolTable} and
 * {@link RelativeRelocations} are heap copies that outlive the file.
 *
 * <p><b>Thread-safety.</b> Immutable once opened; every method may be called from any number of threads. Returned
 * buffers are each caller's own (position and limit are not shared).
 *
 * <p><b>Errors.</b> Every problem with the file is an unchecked {@link ElfException} naming the file: missing or
 * unreadable, not ELF, not ELF64 little-endian x86-64 (the only kind supported), truncated, or malformed.
 */
public final class ElfFile implements AutoCloseable {
  private final Path path;
  private final Arena arena;
  private final MemorySegment image;
  private final ElfHeaders headers;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Lazy<SymbolTable> functionSymbols = new Lazy<>(this::readFunctionSymbols);
  private final Lazy<RelativeRelocations> relocations = new Lazy<>(this::readRelocations);

  private ElfFile(Path path, Arena arena, MemorySegment image, ElfHeaders headers) {
    this.path = path;
    this.arena = arena;
    this.image = image;
    this.headers = headers;
  }

  /**
   * Maps {@code path} read-only and parses its headers.
   *
   * @throws ElfException if the file is missing or unreadable, is not an ELF file, is not ELF64 little-endian
   *     x86-64, or is truncated or malformed
   */
  public static ElfFile open(Path path) {
    Arena arena = Arena.ofShared();
    try {
      MemorySegment image;
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
        if (!Files.isRegularFile(path)) {
          throw new ElfException(path, "not a regular file");
        }
        image = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
      }
      return new ElfFile(path, arena, image, ElfHeaders.parse(path, image));
    } catch (NoSuchFileException e) {
      arena.close();
      throw new ElfException(path, "no such file", e);
    } catch (AccessDeniedException e) {
      arena.close();
      throw new ElfException(path, "permission denied", e);
    } catch (IOException e) {
      arena.close();
      throw new ElfException(path, "cannot read: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /** The file this was opened from. */
  public Path path() {
    return path;
  }

  /** Whether the file is {@code ET_DYN} (a PIE or shared object): its addresses are relocated by a load bias. */
  public boolean isPositionIndependent() {
    return headers.type() == ElfHeaders.ET_DYN;
  }

  /** All section headers in file order; index 0 is the null section (empty name, type 0). */
  public List<Section> sections() {
    return headers.sections();
  }

  /** The first section called {@code name}. */
  public Optional<Section> section(String name) {
    for (Section s : headers.sections()) {
      if (s.name().equals(name)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /** The loaded, file-backed section whose address range holds {@code vaddr}. */
  public Optional<Section> sectionAt(long vaddr) {
    for (Section s : headers.sections()) {
      if (!s.isNoBits() && s.containsAddress(vaddr)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /**
   * The contents of {@code section} as a little-endian, read-only buffer (position 0, limit = size). Uncompressed
   * sections are a view of the mapping (no copy); compressed ones ({@code SHF_COMPRESSED} zlib, or {@code .zdebug_*})
   * are inflated into a new heap buffer on every call. {@code SHT_NOBITS} sections give an empty buffer.
   *
   * @throws ElfException if the section is compressed with an unsupported algorithm (zstd) or its data is corrupt
   * @throws IllegalArgumentException if {@code section} is not one of this file's {@link #sections()}
   */
  public ByteBuffer sectionData(Section section) {
    if (!headers.sections().contains(section)) {
      throw new IllegalArgumentException(section.name() + " is not a section of " + path);
    }
    if (section.isNoBits() || section.size() == 0) {
      return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
    }
    if (!inImage(section.offset(), section.size())) {
      throw new ElfException(path, "malformed: section " + section.name() + " (type " + section.type() + ", offset "
          + section.offset() + ", size " + section.size() + ") lies outside the file (" + image.byteSize() + " bytes)");
    }
    ByteBuffer stored = view(section.offset(), section.size());
    return SectionDecompressor.isCompressed(section, stored)
        ? SectionDecompressor.inflate(path, section, stored)
        : stored;
  }

  /** All program headers in file order. */
  public List<ProgramHeader> programHeaders() {
    return headers.programHeaders();
  }

  /**
   * The GNU build ID ({@code NT_GNU_BUILD_ID}) as lower-case hex, from {@code .note.gnu.build-id} or else any
   * {@code PT_NOTE} segment.
   */
  public Optional<String> gnuBuildId() {
    Optional<Section> note = section(".note.gnu.build-id");
    if (note.isPresent() && !note.get().isNoBits()) {
      Optional<String> id = ElfNotes.gnuBuildId(sectionData(note.get()), 4);
      if (id.isPresent()) {
        return id;
      }
    }
    for (ProgramHeader ph : headers.programHeaders()) {
      if (ph.type() == ProgramHeader.PT_NOTE && ph.fileSize() > 0 && inImage(ph.offset(), ph.fileSize())) {
        Optional<String> id = ElfNotes.gnuBuildId(view(ph.offset(), ph.fileSize()), ph.align());
        if (id.isPresent()) {
          return id;
        }
      }
    }
    return Optional.empty();
  }

  /** The file offset that holds link-time address {@code vaddr}, through the {@code PT_LOAD} segments. */
  public OptionalLong fileOffsetOfAddress(long vaddr) {
    for (ProgramHeader ph : headers.programHeaders()) {
      if (ph.loadsAddress(vaddr)) {
        return OptionalLong.of(ph.offset() + (vaddr - ph.vaddr()));
      }
    }
    return OptionalLong.empty();
  }

  /** The link-time address at which file offset {@code fileOffset} is loaded, through the {@code PT_LOAD} segments. */
  public OptionalLong addressOfFileOffset(long fileOffset) {
    for (ProgramHeader ph : headers.programHeaders()) {
      if (ph.loadsFileOffset(fileOffset)) {
        return OptionalLong.of(ph.vaddr() + (fileOffset - ph.offset()));
      }
    }
    return OptionalLong.empty();
  }

  /**
   * A little-endian, read-only view of the {@code length} file bytes loaded at link-time address {@code vaddr}, if
   * they all lie in the file-backed part of one {@code PT_LOAD} segment.
   */
  public Optional<ByteBuffer> bytesAt(long vaddr, long length) {
    for (ProgramHeader ph : headers.programHeaders()) {
      if (ph.loadsAddress(vaddr) && length >= 0 && vaddr - ph.vaddr() + length <= ph.fileSize()) {
        long offset = ph.offset() + (vaddr - ph.vaddr());
        if (inImage(offset, length)) {
          return Optional.of(view(offset, length));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The pointer stored at link-time address {@code vaddr} as the loader leaves it at load bias 0: the addend of an
   * {@code R_X86_64_RELATIVE} relocation of that slot if there is one, else the 8 file bytes there.
   */
  public OptionalLong pointerAt(long vaddr) {
    OptionalLong relocated = relocations.get().addendAt(vaddr);
    if (relocated.isPresent()) {
      return relocated;
    }
    return bytesAt(vaddr, 8).map(b -> OptionalLong.of(b.getLong(0))).orElse(OptionalLong.empty());
  }

  /** The {@code R_X86_64_RELATIVE} relocations of the file (empty for most non-PIE executables); read once. */
  public RelativeRelocations relativeRelocations() {
    return relocations.get();
  }

  /**
   * The function symbols ({@code STT_FUNC}, {@code STT_GNU_IFUNC}) of {@code .symtab} merged with {@code .dynsym};
   * empty for a stripped file without dynamic symbols. Read once.
   */
  public SymbolTable functionSymbols() {
    return functionSymbols.get();
  }

  /** The defined symbol of any type called {@code name}, from {@code .symtab}, else {@code .dynsym}. */
  public Optional<ElfSymbol> symbol(String name) {
    byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
    for (int type : new int[] {Section.SHT_SYMTAB, Section.SHT_DYNSYM}) {
      List<ElfSymbol> found = new ArrayList<>(1);
      forEachSymbolTable(type, (table, strings) -> {
        if (found.isEmpty()) {
          SymbolReader.find(image, table, strings, wanted).ifPresent(found::add);
        }
      });
      if (!found.isEmpty()) {
        return Optional.of(found.getFirst());
      }
    }
    return Optional.empty();
  }

  /** Unmaps the file. Idempotent. Views handed out earlier become unusable. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      arena.close();
    }
  }

  @Override
  public String toString() {
    return "ElfFile[" + path + "]";
  }

  /** Whether the file holds {@code length} bytes at {@code offset}; overflow-safe, for offsets a malformed header gives. */
  private boolean inImage(long offset, long length) {
    return offset >= 0 && length >= 0 && offset <= image.byteSize() - length;
  }

  private ByteBuffer view(long offset, long length) {
    return image.asSlice(offset, length).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private SymbolTable readFunctionSymbols() {
    List<ElfSymbol> functions = new ArrayList<>();
    Set<ElfSymbol> seen = new HashSet<>();
    for (int type : new int[] {Section.SHT_SYMTAB, Section.SHT_DYNSYM}) {
      forEachSymbolTable(type, (table, strings) -> SymbolReader.forEachDefined(image, table, strings, sym -> {
        boolean function = sym.type() == SymbolReader.STT_FUNC || sym.type() == SymbolReader.STT_GNU_IFUNC;
        if (function && sym.value() != 0) {
          ElfSymbol s = new ElfSymbol(sym.name(), sym.value(), sym.size());
          // .dynsym repeats exported .symtab entries, sometimes without the size: keep the first.
          if (seen.add(new ElfSymbol(s.name(), s.value(), 0))) {
            functions.add(s);
          }
        }
      }));
    }
    return new SymbolTable(functions, this::endOfSectionAt);
  }

  private long endOfSectionAt(long vaddr) {
    return sectionAt(vaddr).map(s -> s.address() + s.size()).orElse(vaddr);
  }

  private RelativeRelocations readRelocations() {
    return RelativeRelocations.read(image, headers.sections());
  }

  private void forEachSymbolTable(int type, BiConsumer<Section, Section> action) {
    List<Section> sections = headers.sections();
    for (int i = 0; i < sections.size(); i++) {
      Section s = sections.get(i);
      int link = headers.sectionLinks()[i];
      if (s.type() == type && link > 0 && link < sections.size()) {
        action.accept(s, sections.get(link));
      }
    }
  }
}
