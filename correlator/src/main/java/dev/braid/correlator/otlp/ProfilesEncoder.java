package dev.braid.correlator.otlp;

import com.google.protobuf.ByteString;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.ProcessInfo;
import dev.braid.correlator.ProfiledSample;
import dev.braid.profiler.Line;
import dev.braid.profiler.Location;
import dev.braid.profiler.Mapping;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.profiles.v1development.Function;
import io.opentelemetry.proto.profiles.v1development.KeyValueAndUnit;
import io.opentelemetry.proto.profiles.v1development.Link;
import io.opentelemetry.proto.profiles.v1development.Profile;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;
import io.opentelemetry.proto.profiles.v1development.Sample;
import io.opentelemetry.proto.profiles.v1development.ScopeProfiles;
import io.opentelemetry.proto.profiles.v1development.Stack;
import io.opentelemetry.proto.profiles.v1development.ValueType;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU samples as an OTLP {@code ExportProfilesServiceRequest} (profiles/v1development of
 * opentelemetry-proto 1.11): one profile per process, one dictionary for the request with the
 * zero value at index 0 of every table. Samples with the same stack and span are one {@code
 * Sample} with a timestamp (and a count of 1) per observation; the span is a {@code Link}.
 */
public final class ProfilesEncoder {
  static final String SCOPE_NAME = "dev.braid.profiler";
  static final String FRAME_TYPE = "profile.frame.type";
  static final String BUILD_ID_GNU = "process.executable.build_id.gnu";

  private final long periodNanos;

  /** @param sampleHz samples per second per CPU, which makes the profile's period */
  public ProfilesEncoder(long sampleHz) {
    this.periodNanos = 1_000_000_000L / sampleHz;
  }

  /** The request for {@code samples} taken in [start, end); empty samples make an empty request. */
  public ExportProfilesServiceRequest encode(List<ProfiledSample> samples, long startEpochNanos, long endEpochNanos) {
    Dictionary dictionary = new Dictionary();
    Map<ProcessInfo, Map<SampleKey, Sample.Builder>> byProcess = new LinkedHashMap<>();
    for (ProfiledSample s : samples) {
      SampleKey key = new SampleKey(dictionary.stack(s.stack()), dictionary.link(s.context().orElse(null)));
      Sample.Builder sample =
          byProcess
              .computeIfAbsent(s.process(), p -> new LinkedHashMap<>())
              .computeIfAbsent(key, k -> Sample.newBuilder().setStackIndex(k.stack()).setLinkIndex(k.link()));
      sample.addValues(1).addTimestampsUnixNano(s.epochNanos());
    }
    ValueType sampleType = dictionary.valueType("samples", "count");
    ValueType periodType = dictionary.valueType("cpu", "nanoseconds");
    ExportProfilesServiceRequest.Builder request = ExportProfilesServiceRequest.newBuilder();
    for (Map.Entry<ProcessInfo, Map<SampleKey, Sample.Builder>> e : byProcess.entrySet()) {
      Profile.Builder profile =
          Profile.newBuilder()
              .setSampleType(sampleType)
              .setPeriodType(periodType)
              .setPeriod(periodNanos)
              .setTimeUnixNano(startEpochNanos)
              .setDurationNano(Math.max(0, endEpochNanos - startEpochNanos));
      e.getValue().values().forEach(sample -> profile.addSamples(sample));
      request.addResourceProfiles(
          ResourceProfiles.newBuilder()
              .setResource(OtlpAttributes.resource(e.getKey().resource()))
              .addScopeProfiles(ScopeProfiles.newBuilder().setScope(OtlpAttributes.scope(SCOPE_NAME)).addProfiles(profile)));
    }
    return request.setDictionary(dictionary.build()).build();
  }

  private record SampleKey(int stack, int link) {}

  /** The tables of one request; each item is added once and referred to by its index. */
  private static final class Dictionary {
    private final Map<String, Integer> strings = new HashMap<>();
    private final Map<Mapping, Integer> mappings = new HashMap<>();
    // A location is its address in its mapping (the symbols at an address do not change).
    private final Map<LocationKey, Integer> locations = new HashMap<>(4096);
    private final Map<Line, Integer> functions = new HashMap<>();
    private final Map<TraceContext, Integer> links = new HashMap<>();
    private final Map<AttributeKey, Integer> attributes = new HashMap<>();
    private final Map<StackKey, Integer> stacks = new HashMap<>(1024);
    private final ProfilesDictionary.Builder tables = ProfilesDictionary.newBuilder();

    private record AttributeKey(String key, String value) {}

    private record LocationKey(long address, long mappingStart, String path) {}

    /** Location indices, leaf first, compared by content. */
    private record StackKey(int[] locations, int hash) {
      StackKey(int[] locations) {
        this(locations, Arrays.hashCode(locations));
      }

      @Override
      public boolean equals(Object o) {
        return o instanceof StackKey k && hash == k.hash && Arrays.equals(locations, k.locations);
      }

      @Override
      public int hashCode() {
        return hash;
      }
    }

    Dictionary() {
      string("");
      tables.addMappingTable(io.opentelemetry.proto.profiles.v1development.Mapping.getDefaultInstance());
      tables.addLocationTable(io.opentelemetry.proto.profiles.v1development.Location.getDefaultInstance());
      tables.addFunctionTable(Function.getDefaultInstance());
      // The zero link with full-length ids, as the specification recommends.
      tables.addLinkTable(Link.newBuilder().setTraceId(ByteString.copyFrom(new byte[16])).setSpanId(ByteString.copyFrom(new byte[8])));
      tables.addAttributeTable(KeyValueAndUnit.getDefaultInstance());
      tables.addStackTable(Stack.getDefaultInstance());
    }

    ProfilesDictionary build() {
      return tables.build();
    }

    int string(String s) {
      return strings.computeIfAbsent(
          s,
          k -> {
            tables.addStringTable(k);
            return strings.size();
          });
    }

    ValueType valueType(String type, String unit) {
      return ValueType.newBuilder().setTypeStrindex(string(type)).setUnitStrindex(string(unit)).build();
    }

    int link(TraceContext context) {
      if (context == null) {
        return 0;
      }
      return links.computeIfAbsent(
          context,
          c -> {
            ByteBuffer trace = ByteBuffer.allocate(16).putLong(c.traceHigh()).putLong(c.traceLow());
            ByteBuffer span = ByteBuffer.allocate(8).putLong(c.span());
            tables.addLinkTable(Link.newBuilder().setTraceId(ByteString.copyFrom(trace.array())).setSpanId(ByteString.copyFrom(span.array())));
            return links.size() + 1;
          });
    }

    /** Leaf first, as the samples hold them. */
    int stack(List<Location> frames) {
      int[] indices = new int[frames.size()];
      for (int i = 0; i < indices.length; i++) {
        indices[i] = location(frames.get(i));
      }
      return stacks.computeIfAbsent(
          new StackKey(indices),
          k -> {
            Stack.Builder stack = Stack.newBuilder();
            for (int index : k.locations()) {
              stack.addLocationIndices(index);
            }
            tables.addStackTable(stack);
            return stacks.size() + 1;
          });
    }

    private int location(Location l) {
      LocationKey key = new LocationKey(l.address(), l.mapping().start(), l.mapping().path());
      Integer known = locations.get(key);
      if (known != null) {
        return known;
      }
      var location =
          io.opentelemetry.proto.profiles.v1development.Location.newBuilder()
              .setMappingIndex(mapping(l.mapping()))
              .setAddress(l.address())
              .addAttributeIndices(attribute(FRAME_TYPE, l.kind().frameType()));
      for (Line line : l.lines()) {
        location.addLines(io.opentelemetry.proto.profiles.v1development.Line.newBuilder().setFunctionIndex(function(line)).setLine(line.line()));
      }
      tables.addLocationTable(location);
      int index = locations.size() + 1;
      locations.put(key, index);
      return index;
    }

    private int mapping(Mapping m) {
      if (m.equals(Mapping.UNKNOWN)) {
        return 0;
      }
      Integer known = mappings.get(m);
      if (known != null) {
        return known;
      }
      var mapping =
          io.opentelemetry.proto.profiles.v1development.Mapping.newBuilder()
              .setMemoryStart(m.start())
              .setMemoryLimit(m.limit())
              .setFileOffset(m.fileOffset())
              .setFilenameStrindex(string(m.path()));
      if (!m.buildId().isEmpty()) {
        mapping.addAttributeIndices(attribute(BUILD_ID_GNU, m.buildId()));
      }
      tables.addMappingTable(mapping);
      int index = mappings.size() + 1;
      mappings.put(m, index);
      return index;
    }

    /** A function is its name and file; the line is the frame's. */
    private int function(Line line) {
      Line key = new Line(line.function(), line.file(), 0);
      return functions.computeIfAbsent(
          key,
          k -> {
            int name = string(k.function());
            tables.addFunctionTable(Function.newBuilder().setNameStrindex(name).setSystemNameStrindex(name).setFilenameStrindex(string(k.file())));
            return functions.size() + 1;
          });
    }

    private int attribute(String key, String value) {
      return attributes.computeIfAbsent(
          new AttributeKey(key, value),
          k -> {
            tables.addAttributeTable(
                KeyValueAndUnit.newBuilder().setKeyStrindex(string(k.key())).setValue(AnyValue.newBuilder().setStringValue(k.value())));
            return attributes.size() + 1;
          });
    }
  }
}
