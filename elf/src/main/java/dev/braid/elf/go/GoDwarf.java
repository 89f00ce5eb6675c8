package dev.braid.elf.go;

import dev.braid.elf.ElfException;
import dev.braid.elf.ElfFile;
import dev.braid.elf.Section;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Struct layouts from a Go binary's DWARF (versions 2 to 5; Go 1.25+ emits DWARF 5, older releases DWARF 4;
 * compressed sections are inflated): the byte size of a struct type and the offsets of its members, by the names Go
 * gives them in DWARF ("runtime.g", "net/http.Request", "internal/runtime/maps.Map").
 *
 * <p><b>Ownership.</b> Reads from the {@link ElfFile}, which the caller owns and must keep open until the first
 * lookup has returned; the index is a heap copy after that.
 *
 * <p><b>Thread-safety.</b> Safe for concurrent use. The index is built once, on the first lookup, by one thread;
 * others wait for it.
 *
 * <p><b>Errors.</b> Lookups throw {@link ElfException} if the DWARF is malformed or compressed with an unsupported
 * algorithm; a struct or member that is simply absent gives an empty result.
 */
public final class GoDwarf {
  private final ElfFile elf;
  private volatile Map<String, DwarfStructIndex.StructLayout> index;

  private GoDwarf(ElfFile elf) {
    this.elf = elf;
  }

  /** The DWARF of {@code elf}, or empty when it has no {@code .debug_info} (e.g. built with {@code -ldflags=-w}). */
  public static Optional<GoDwarf> read(ElfFile elf) {
    return debugSection(elf, "info").isPresent() ? Optional.of(new GoDwarf(elf)) : Optional.empty();
  }

  /** The DW_AT_data_member_location of member {@code memberName} of struct {@code structName}. */
  public OptionalLong memberOffset(String structName, String memberName) {
    DwarfStructIndex.StructLayout s = index().get(structName);
    if (s == null) {
      return OptionalLong.empty();
    }
    Long offset = s.members().get(memberName);
    return offset == null ? OptionalLong.empty() : OptionalLong.of(offset);
  }

  /** The DW_AT_byte_size of struct {@code structName}. */
  public OptionalLong structSize(String structName) {
    DwarfStructIndex.StructLayout s = index().get(structName);
    return s == null || s.byteSize() < 0 ? OptionalLong.empty() : OptionalLong.of(s.byteSize());
  }

  private Map<String, DwarfStructIndex.StructLayout> index() {
    Map<String, DwarfStructIndex.StructLayout> i = index;
    if (i == null) {
      synchronized (this) {
        i = index;
        if (i == null) {
          i = build();
          index = i;
        }
      }
    }
    return i;
  }

  private Map<String, DwarfStructIndex.StructLayout> build() {
    ByteBuffer info = data("info");
    DwarfStructIndex.Strings strings = new DwarfStructIndex.Strings(data("str"), data("line_str"),
        data("str_offsets"));
    try {
      return DwarfStructIndex.build(info, data("abbrev"), strings);
    } catch (DwarfFormatException | IndexOutOfBoundsException | IllegalArgumentException e) {
      throw new ElfException(elf.path(), "malformed DWARF: " + e.getMessage(), e);
    }
  }

  private ByteBuffer data(String name) {
    return debugSection(elf, name).map(elf::sectionData)
        .orElseGet(() -> ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN));
  }

  /** {@code .debug_<name>}, or the Go 1.11 compressed spelling {@code .zdebug_<name>}. */
  private static Optional<Section> debugSection(ElfFile elf, String name) {
    return elf.section(".debug_" + name).or(() -> elf.section(".zdebug_" + name));
  }
}
