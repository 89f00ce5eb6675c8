package dev.braid.correlator.pprof;

import com.google.protobuf.CodedOutputStream;
import dev.braid.profiler.Line;
import dev.braid.profiler.Location;
import dev.braid.profiler.Mapping;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a {@link PprofProfile} as gzipped {@code profile.proto} (github.com/google/pprof), the
 * format {@code go tool pprof} reads. Two sample types, {@code samples/count} and {@code
 * cpu/nanoseconds}; per-sample string labels. Stateless; thread-safe.
 */
public final class PprofWriter {
  // profile.proto field numbers.
  private static final int PROFILE_SAMPLE_TYPE = 1;
  private static final int PROFILE_SAMPLE = 2;
  private static final int PROFILE_MAPPING = 3;
  private static final int PROFILE_LOCATION = 4;
  private static final int PROFILE_FUNCTION = 5;
  private static final int PROFILE_STRING_TABLE = 6;
  private static final int PROFILE_TIME_NANOS = 9;
  private static final int PROFILE_DURATION_NANOS = 10;
  private static final int PROFILE_PERIOD_TYPE = 11;
  private static final int PROFILE_PERIOD = 12;
  private static final int VALUE_TYPE_TYPE = 1;
  private static final int VALUE_TYPE_UNIT = 2;
  private static final int SAMPLE_LOCATION_ID = 1;
  private static final int SAMPLE_VALUE = 2;
  private static final int SAMPLE_LABEL = 3;
  private static final int LABEL_KEY = 1;
  private static final int LABEL_STR = 2;
  private static final int MAPPING_ID = 1;
  private static final int MAPPING_MEMORY_START = 2;
  private static final int MAPPING_MEMORY_LIMIT = 3;
  private static final int MAPPING_FILE_OFFSET = 4;
  private static final int MAPPING_FILENAME = 5;
  private static final int MAPPING_BUILD_ID = 6;
  private static final int MAPPING_HAS_FUNCTIONS = 7;
  private static final int MAPPING_HAS_FILENAMES = 8;
  private static final int MAPPING_HAS_LINE_NUMBERS = 9;
  private static final int MAPPING_HAS_INLINE_FRAMES = 10;
  private static final int LOCATION_ID = 1;
  private static final int LOCATION_MAPPING_ID = 2;
  private static final int LOCATION_ADDRESS = 3;
  private static final int LOCATION_LINE = 4;
  private static final int LINE_FUNCTION_ID = 1;
  private static final int LINE_LINE = 2;
  private static final int FUNCTION_ID = 1;
  private static final int FUNCTION_NAME = 2;
  private static final int FUNCTION_SYSTEM_NAME = 3;
  private static final int FUNCTION_FILENAME = 4;

  /** Writes {@code profile} gzipped to {@code out} (which stays open). */
  public void write(PprofProfile profile, OutputStream out) {
    try {
      GZIPOutputStream gzip = new GZIPOutputStream(out);
      gzip.write(encode(profile));
      gzip.finish();
    } catch (IOException e) {
      throw new UncheckedIOException("writing pprof", e);
    }
  }

  /** The uncompressed profile.proto bytes. */
  public byte[] encode(PprofProfile profile) {
    return new Encoder().encode(profile);
  }

  /** Builds the tables (string 0 is ""; ids start at 1) while walking the samples. */
  private static final class Encoder {
    private final Map<String, Integer> strings = new LinkedHashMap<>();
    private final Map<Mapping, Integer> mappings = new LinkedHashMap<>();
    private final Map<LocationKey, Integer> locations = new LinkedHashMap<>();
    private final Map<LocationKey, Location> locationValues = new HashMap<>();
    private final Map<FunctionKey, Integer> functions = new LinkedHashMap<>();

    private record LocationKey(Mapping mapping, long address) {}

    private record FunctionKey(String name, String file) {}

    private record SampleKey(List<Integer> locationIds, Map<String, String> labels) {}

    Encoder() {
      string("");
    }

    /*
     * One loop a method: encode runs once a flush, and as one method with every loop inlined the
     * JIT's C2 took ~0.8 s of CPU to compile it (73 kB of code), twice, for a call of a few ms.
     */
    byte[] encode(PprofProfile profile) {
      Map<SampleKey, Long> counts = mergeSamples(profile);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      try {
        out.writeByteArray(PROFILE_SAMPLE_TYPE, valueType("samples", "count"));
        out.writeByteArray(PROFILE_SAMPLE_TYPE, valueType("cpu", "nanoseconds"));
        writeSamples(out, counts, profile.periodNanos());
        writeMappings(out);
        writeLocations(out);
        writeFunctions(out);
        out.writeInt64(PROFILE_TIME_NANOS, profile.startEpochNanos());
        out.writeInt64(PROFILE_DURATION_NANOS, profile.durationNanos());
        out.writeByteArray(PROFILE_PERIOD_TYPE, valueType("cpu", "nanoseconds"));
        out.writeInt64(PROFILE_PERIOD, profile.periodNanos());
        writeStrings(out); // last: everything above has added to the table
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bytes.toByteArray();
    }

    /** Samples with the same stack and labels, merged. */
    private Map<SampleKey, Long> mergeSamples(PprofProfile profile) {
      Map<SampleKey, Long> counts = new LinkedHashMap<>();
      for (PprofProfile.Sample s : profile.samples()) {
        List<Integer> ids = new ArrayList<>(s.stack().size());
        for (Location loc : s.stack()) {
          ids.add(location(loc));
        }
        counts.merge(new SampleKey(ids, new TreeMap<>(s.labels())), 1L, Long::sum);
      }
      return counts;
    }

    private void writeSamples(CodedOutputStream out, Map<SampleKey, Long> counts, long periodNanos) throws IOException {
      for (Map.Entry<SampleKey, Long> e : counts.entrySet()) {
        out.writeByteArray(PROFILE_SAMPLE, sample(e.getKey(), e.getValue(), periodNanos));
      }
    }

    private void writeMappings(CodedOutputStream out) throws IOException {
      for (Map.Entry<Mapping, Integer> m : mappings.entrySet()) {
        out.writeByteArray(PROFILE_MAPPING, mapping(m.getKey(), m.getValue()));
      }
    }

    private void writeLocations(CodedOutputStream out) throws IOException {
      for (Map.Entry<LocationKey, Integer> l : locations.entrySet()) {
        out.writeByteArray(PROFILE_LOCATION, location(locationValues.get(l.getKey()), l.getValue()));
      }
    }

    private void writeFunctions(CodedOutputStream out) throws IOException {
      for (Map.Entry<FunctionKey, Integer> f : functions.entrySet()) {
        out.writeByteArray(PROFILE_FUNCTION, function(f.getKey(), f.getValue()));
      }
    }

    private void writeStrings(CodedOutputStream out) throws IOException {
      for (String s : strings.keySet()) {
        out.writeString(PROFILE_STRING_TABLE, s);
      }
    }

    private int string(String s) {
      return strings.computeIfAbsent(s, k -> strings.size());
    }

    private int location(Location loc) {
      LocationKey key = new LocationKey(loc.mapping(), loc.address());
      Integer id = locations.get(key);
      if (id == null) {
        id = locations.size() + 1;
        locations.put(key, id);
        locationValues.put(key, loc);
        if (!loc.mapping().equals(Mapping.UNKNOWN)) {
          mappings.computeIfAbsent(loc.mapping(), m -> mappings.size() + 1);
        }
        for (Line line : loc.lines()) {
          functions.computeIfAbsent(new FunctionKey(line.function(), line.file()), f -> functions.size() + 1);
        }
      }
      return id;
    }

    private byte[] valueType(String type, String unit) throws IOException {
      return message(
          out -> {
            out.writeInt64(VALUE_TYPE_TYPE, string(type));
            out.writeInt64(VALUE_TYPE_UNIT, string(unit));
          });
    }

    private byte[] sample(SampleKey key, long count, long period) throws IOException {
      List<byte[]> labels = new ArrayList<>();
      for (Map.Entry<String, String> l : key.labels().entrySet()) {
        labels.add(
            message(
                out -> {
                  out.writeInt64(LABEL_KEY, string(l.getKey()));
                  out.writeInt64(LABEL_STR, string(l.getValue()));
                }));
      }
      return message(
          out -> {
            out.writeByteArray(SAMPLE_LOCATION_ID, packedUint64(key.locationIds()));
            out.writeByteArray(SAMPLE_VALUE, packedInt64(List.of(count, count * period)));
            for (byte[] label : labels) {
              out.writeByteArray(SAMPLE_LABEL, label);
            }
          });
    }

    private byte[] mapping(Mapping m, int id) throws IOException {
      boolean symbolized = !m.path().isEmpty();
      return message(
          out -> {
            out.writeUInt64(MAPPING_ID, id);
            out.writeUInt64(MAPPING_MEMORY_START, m.start());
            out.writeUInt64(MAPPING_MEMORY_LIMIT, m.limit());
            out.writeUInt64(MAPPING_FILE_OFFSET, m.fileOffset());
            out.writeInt64(MAPPING_FILENAME, string(m.path()));
            out.writeInt64(MAPPING_BUILD_ID, string(m.buildId()));
            // Symbolized here: pprof must not try again with the local binaries.
            out.writeBool(MAPPING_HAS_FUNCTIONS, symbolized);
            out.writeBool(MAPPING_HAS_FILENAMES, symbolized);
            out.writeBool(MAPPING_HAS_LINE_NUMBERS, symbolized);
            out.writeBool(MAPPING_HAS_INLINE_FRAMES, symbolized);
          });
    }

    private byte[] location(Location loc, int id) throws IOException {
      List<byte[]> lines = new ArrayList<>();
      for (Line line : loc.lines()) {
        int fn = functions.get(new FunctionKey(line.function(), line.file()));
        lines.add(
            message(
                out -> {
                  out.writeUInt64(LINE_FUNCTION_ID, fn);
                  out.writeInt64(LINE_LINE, line.line());
                }));
      }
      Integer mappingId = mappings.get(loc.mapping());
      return message(
          out -> {
            out.writeUInt64(LOCATION_ID, id);
            if (mappingId != null) {
              out.writeUInt64(LOCATION_MAPPING_ID, mappingId);
            }
            out.writeUInt64(LOCATION_ADDRESS, loc.address());
            for (byte[] line : lines) {
              out.writeByteArray(LOCATION_LINE, line);
            }
          });
    }

    private byte[] function(FunctionKey f, int id) throws IOException {
      return message(
          out -> {
            out.writeUInt64(FUNCTION_ID, id);
            out.writeInt64(FUNCTION_NAME, string(f.name()));
            out.writeInt64(FUNCTION_SYSTEM_NAME, string(f.name()));
            out.writeInt64(FUNCTION_FILENAME, string(f.file()));
          });
    }

    /*
     * The buffer of a nested message (a location; a sample's ids, values and labels: tens of
     * bytes). protobuf's default of 4 KiB for each made encoding a flush of 3,000 samples
     * allocate 111 MB instead of 18, and take 1.5 times as long.
     */
    private static final int NESTED_BUFFER = 128;

    @FunctionalInterface
    private interface Body {
      void write(CodedOutputStream out) throws IOException;
    }

    private static byte[] message(Body body) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(NESTED_BUFFER);
      CodedOutputStream out = CodedOutputStream.newInstance(bytes, NESTED_BUFFER);
      body.write(out);
      out.flush();
      return bytes.toByteArray();
    }

    private static byte[] packedUint64(List<Integer> values) throws IOException {
      return message(
          out -> {
            for (int v : values) {
              out.writeUInt64NoTag(v);
            }
          });
    }

    private static byte[] packedInt64(List<Long> values) throws IOException {
      return message(
          out -> {
            for (long v : values) {
              out.writeInt64NoTag(v);
            }
          });
    }
  }
}
