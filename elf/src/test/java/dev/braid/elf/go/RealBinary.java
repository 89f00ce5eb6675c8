package dev.braid.elf.go;

import dev.braid.elf.ElfFile;
import dev.braid.elf.Section;
import dev.braid.examples.GoBuild;
import dev.braid.examples.GoBuilds;
import dev.braid.examples.GoRelease;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real Go binary (examples/pinned, a small one, of one Go release and build) that fuzz inputs patch: a private
 * copy under /dev/shm that patches are written into and taken back out of, and the file regions
 * braid's readers parse (headers, section table, the sections of Go's metadata), so that a patch
 * lands where a reader looks.
 */
final class RealBinary implements AutoCloseable {
  /** A stretch of the file a reader parses. */
  record Region(String name, long offset, long size) {}

  private static final Map<String, RealBinary> OPEN = new ConcurrentHashMap<>();
  private static final int SECTION_HEADER = 64;
  private static final int PROGRAM_HEADER = 56;

  private final String name;
  private final Path copy;
  private final FileChannel channel;
  private final List<Region> regions;
  private final List<Long> pcs;

  private RealBinary(String name, Path original) throws IOException {
    this.name = name;
    this.copy = Files.createTempFile(Path.of("/dev/shm"), "braid-fuzz-", ".elf");
    Files.copy(original, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    this.channel = FileChannel.open(copy, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try (ElfFile elf = ElfFile.open(copy)) {
      this.regions = regionsOf(elf, header(channel));
      Pclntab table = Pclntab.read(elf);
      List<GoFunction> functions = table.functions();
      List<Long> sample = new ArrayList<>();
      for (int i = 0; i < functions.size(); i += Math.max(1, functions.size() / 24)) {
        GoFunction f = functions.get(i);
        sample.add(f.entry());
        sample.add(f.entry() + (f.end() - f.entry()) / 2);
      }
      this.pcs = List.copyOf(sample);
    }
  }

  /** Every base a fuzz input can pick: examples/pinned of each covered Go release, with DWARF and stripped PIE. */
  static List<RealBinary> all() {
    List<RealBinary> out = new ArrayList<>();
    for (GoRelease release : GoBuilds.covered()) {
      for (GoBuild build : List.of(GoBuild.DEFAULT, GoBuild.STRIPPED_PIE_PURE)) {
        String name = release + "/" + build.name();
        out.add(OPEN.computeIfAbsent(name, n -> {
          try {
            return new RealBinary(n, GoBuilds.binary("pinned", release, build));
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }));
      }
    }
    return out;
  }

  String name() {
    return name;
  }

  Path path() {
    return copy;
  }

  List<Region> regions() {
    return regions;
  }

  /** Program counters of the unpatched binary worth looking up: function entries and midpoints. */
  List<Long> pcs() {
    return pcs;
  }

  /** The bytes of {@code region}, unpatched. */
  byte[] read(Region region) {
    ByteBuffer b = ByteBuffer.allocate((int) region.size());
    try {
      channel.read(b, region.offset());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return b.array();
  }

  /** Writes {@code bytes} at {@code offset}, returning what was there, to be written back after the input. */
  byte[] patch(long offset, byte[] bytes) {
    try {
      ByteBuffer old = ByteBuffer.allocate(bytes.length);
      channel.read(old, offset);
      channel.write(ByteBuffer.wrap(bytes), offset);
      return old.array();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
    Files.deleteIfExists(copy);
  }

  /** Closes every copy (the JVM's end would leave them in /dev/shm). */
  static void closeAll() throws IOException {
    for (RealBinary b : OPEN.values()) {
      b.close();
    }
    OPEN.clear();
  }

  private static ByteBuffer header(FileChannel channel) throws IOException {
    ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    channel.read(h, 0);
    return h;
  }

  private static List<Region> regionsOf(ElfFile elf, ByteBuffer header) {
    List<Region> out = new ArrayList<>();
    out.add(new Region("ELF header", 0, 64));
    out.add(new Region("program headers", header.getLong(32), (long) PROGRAM_HEADER * Short.toUnsignedInt(header.getShort(56))));
    out.add(new Region("section headers", header.getLong(40), (long) SECTION_HEADER * Short.toUnsignedInt(header.getShort(60))));
    for (Section s : elf.sections()) {
      if (!s.isNoBits() && s.size() > 0 && READ_BY_BRAID.stream().anyMatch(s.name()::startsWith)) {
        out.add(new Region(s.name(), s.offset(), s.size()));
      }
    }
    return List.copyOf(out);
  }

  /** Sections braid's readers parse (by name prefix); the section holding go:func.* is .rodata or .data.rel.ro. */
  private static final List<String> READ_BY_BRAID = List.of(".shstrtab", ".note", ".go.buildinfo", ".symtab", ".strtab",
      ".dynsym", ".dynstr", ".rela", ".gopclntab", ".data.rel.ro", ".rodata", ".noptrdata", ".zdebug_", ".debug_");
}
