package dev.braid.tracer;

import dev.braid.elf.go.GoDwarf;
import java.util.EnumMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

/** Where a binary's struct offsets come from: its own DWARF, or the table of its Go release. */
sealed interface OffsetSource permits OffsetSource.Dwarf, OffsetSource.Table {
  OptionalInt offset(GoField field);

  /** For messages: {@code DWARF} or {@code the go1.23 offset table}. */
  String describe();

  /** The binary's own debug information: exact for this very build. */
  record Dwarf(GoDwarf dwarf) implements OffsetSource {
    @Override
    public OptionalInt offset(GoField field) {
      OptionalLong off = field.readFrom(dwarf);
      return off.isPresent() ? OptionalInt.of((int) off.getAsLong()) : OptionalInt.empty();
    }

    @Override
    public String describe() {
      return "DWARF";
    }
  }

  /** A column of go-offsets.tsv (and of grpc-offsets.tsv), read from DWARF of builds with those versions. */
  record Table(String release, Map<GoField, Integer> offsets) implements OffsetSource {
    @Override
    public OptionalInt offset(GoField field) {
      Integer off = offsets.get(field);
      return off == null ? OptionalInt.empty() : OptionalInt.of(off);
    }

    @Override
    public String describe() {
      return "the " + release + " offset table";
    }

    /** This column and {@code other}'s, of another table (their fields do not overlap). */
    Table with(Table other) {
      Map<GoField, Integer> both = new EnumMap<>(GoField.class);
      both.putAll(offsets);
      both.putAll(other.offsets);
      return new Table(release + " and " + other.release, Map.copyOf(both));
    }
  }
}
