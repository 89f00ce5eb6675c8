package dev.braid.correlator.report;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.profiles.v1development.Line;
import io.opentelemetry.proto.profiles.v1development.Location;
import io.opentelemetry.proto.profiles.v1development.Profile;
import io.opentelemetry.proto.profiles.v1development.ProfilesDictionary;
import io.opentelemetry.proto.profiles.v1development.ResourceProfiles;
import io.opentelemetry.proto.profiles.v1development.Sample;
import io.opentelemetry.proto.profiles.v1development.ScopeProfiles;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The spans and CPU samples of a run, streamed from its OTLP/JSON lines files: braid's
 * traces.jsonl and profiles.jsonl, or what a collector's file exporter wrote (any {@code *.jsonl}
 * or {@code *.json} file in the directory; each line is told apart by its first field). Streamed,
 * because a long run's files outgrow memory.
 */
public final class RunFiles {
  private static final Base64.Encoder BASE64 = Base64.getEncoder();
  private static final String ZERO_SPAN = "0000000000000000";

  /** A span as the report needs it; times in Unix nanoseconds, ids in hex. */
  public record SpanRow(String service, String traceId, String spanId, String parentSpanId, String name, int kind, long start, long end,
      String route, List<LinkRow> links) {}

  /** A span link: the other span, and braid's link type (go.channel, ...) when it says one. */
  public record LinkRow(String traceId, String spanId, String type) {}

  /** One stack seen {@code count} times in a process, inside a span (ids) or outside any (empty ids). */
  public record SampleRow(String service, long pid, String traceId, String spanId, List<Frame> frames, long count, long periodNanos) {}

  /** A frame, root first in {@link SampleRow#frames()}; kind is go, native or kernel. */
  public record Frame(String name, String kind, boolean inlined) {}

  private final List<Path> files;
  private final long bytes;
  private final JsonFormat.Parser parser = JsonFormat.parser().ignoringUnknownFields();

  private RunFiles(List<Path> files, long bytes) {
    this.files = files;
    this.bytes = bytes;
  }

  /** The OTLP/JSON files of {@code dir}. */
  public static RunFiles in(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(p -> p.toString().endsWith(".jsonl") || p.toString().endsWith(".json")).sorted().toList();
    }
    long bytes = 0;
    for (Path f : files) {
      bytes += Files.size(f);
    }
    return new RunFiles(files, bytes);
  }

  /** All the files' bytes: one pass reads this many. */
  public long bytes() {
    return bytes;
  }

  /** Every span, in file order. */
  public void spans(Consumer<SpanRow> each) throws IOException {
    read("{\"resourceSpans\"", line -> {
      ExportTraceServiceRequest.Builder r = ExportTraceServiceRequest.newBuilder();
      parser.merge(line, r);
      spans(r.build(), each);
    });
  }

  /** Every sample, in file order. */
  public void samples(Consumer<SampleRow> each) throws IOException {
    read("{\"resourceProfiles\"", line -> {
      ExportProfilesServiceRequest.Builder r = ExportProfilesServiceRequest.newBuilder();
      parser.merge(line, r);
      samples(r.build(), each);
    });
  }

  private interface LineParser {
    void parse(String line) throws InvalidProtocolBufferException;
  }

  private void read(String kind, LineParser parse) throws IOException {
    for (Path file : files) {
      try (BufferedReader in = Files.newBufferedReader(file)) {
        int lineNumber = 0;
        for (String line; (line = in.readLine()) != null; ) {
          lineNumber++;
          if (line.startsWith(kind)) {
            try {
              parse.parse(line);
            } catch (InvalidProtocolBufferException e) {
              throw new IOException(file + ":" + lineNumber + " is no OTLP/JSON export request: " + e.getMessage(), e);
            }
          }
        }
      }
    }
  }

  private static void spans(ExportTraceServiceRequest request, Consumer<SpanRow> out) {
    for (ResourceSpans rs : request.getResourceSpansList()) {
      String service = serviceName(rs.getResource());
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          List<LinkRow> links = new ArrayList<>();
          for (Span.Link l : s.getLinksList()) {
            links.add(new LinkRow(hex(l.getTraceId()), hex(l.getSpanId()), attribute(l.getAttributesList(), "braid.link.type")));
          }
          String route = attribute(s.getAttributesList(), "http.route");
          if (route.isEmpty()) {
            route = attribute(s.getAttributesList(), "rpc.method");
          }
          if (route.isEmpty()) {
            route = s.getName();
          }
          out.accept(new SpanRow(service, hex(s.getTraceId()), hex(s.getSpanId()), s.getParentSpanId().isEmpty() ? "" : hex(s.getParentSpanId()),
              s.getName(), s.getKindValue(), s.getStartTimeUnixNano(), s.getEndTimeUnixNano(), route, List.copyOf(links)));
        }
      }
    }
  }

  private static void samples(ExportProfilesServiceRequest request, Consumer<SampleRow> out) {
    ProfilesDictionary d = request.getDictionary();
    for (ResourceProfiles rp : request.getResourceProfilesList()) {
      // A collector's file exporter may move attribute keys and string values into the dictionary's string table.
      List<KeyValue> attributes = rp.getResource().getAttributesList().stream().map(kv -> inline(d, kv)).toList();
      String service = attribute(attributes, "service.name");
      service = service.isEmpty() ? "unknown_service" : service;
      long pid = 0;
      for (KeyValue kv : attributes) {
        if (kv.getKey().equals("process.pid")) {
          pid = kv.getValue().getIntValue();
        }
      }
      for (ScopeProfiles sp : rp.getScopeProfilesList()) {
        for (Profile p : sp.getProfilesList()) {
          long period = p.getPeriod() > 0 ? p.getPeriod() : 1_000_000_000L / 99;
          for (Sample s : p.getSamplesList()) {
            // values: one per timestamp (1 each, as braid writes them) or one total
            long count = s.getValuesCount() > 0 ? s.getValuesList().stream().mapToLong(Long::longValue).sum() : s.getTimestampsUnixNanoCount();
            String trace = "";
            String span = "";
            if (s.getLinkIndex() > 0 && s.getLinkIndex() < d.getLinkTableCount()) {
              var link = d.getLinkTable(s.getLinkIndex());
              span = hex(link.getSpanId());
              trace = span.equals(ZERO_SPAN) ? "" : hex(link.getTraceId());
              span = trace.isEmpty() ? "" : span;
            }
            out.accept(new SampleRow(service, pid, trace, span, frames(d, s.getStackIndex()), Math.max(count, 1), period));
          }
        }
      }
    }
  }

  /** Root first; a location's inlined functions after the function they were inlined into. */
  private static List<Frame> frames(ProfilesDictionary d, int stackIndex) {
    if (stackIndex <= 0 || stackIndex >= d.getStackTableCount()) {
      return List.of();
    }
    List<Integer> leafFirst = d.getStackTable(stackIndex).getLocationIndicesList();
    List<Frame> frames = new ArrayList<>();
    for (int i = leafFirst.size() - 1; i >= 0; i--) {
      int index = leafFirst.get(i);
      if (index <= 0 || index >= d.getLocationTableCount()) {
        continue;
      }
      Location l = d.getLocationTable(index);
      String kind = "native";
      for (int a : l.getAttributeIndicesList()) {
        if (a > 0 && a < d.getAttributeTableCount() && d.getStringTable(d.getAttributeTable(a).getKeyStrindex()).equals("profile.frame.type")) {
          kind = d.getAttributeTable(a).getValue().getStringValue();
        }
      }
      List<Line> lines = l.getLinesList();
      if (lines.isEmpty()) {
        frames.add(new Frame("0x" + Long.toHexString(l.getAddress()), kind, false));
      }
      // The last line is the function the code is in; the ones before it were inlined into it.
      for (int j = lines.size() - 1; j >= 0; j--) {
        int f = lines.get(j).getFunctionIndex();
        String name = f > 0 && f < d.getFunctionTableCount() ? d.getStringTable(d.getFunctionTable(f).getNameStrindex()) : "?";
        frames.add(new Frame(name, kind, j < lines.size() - 1));
      }
    }
    return List.copyOf(frames);
  }

  private static KeyValue inline(ProfilesDictionary d, KeyValue kv) {
    KeyValue.Builder b = kv.toBuilder();
    if (kv.getKey().isEmpty() && kv.getKeyStrindex() > 0 && kv.getKeyStrindex() < d.getStringTableCount()) {
      b.setKey(d.getStringTable(kv.getKeyStrindex()));
    }
    if (kv.getValue().hasStringValueStrindex() && kv.getValue().getStringValueStrindex() < d.getStringTableCount()) {
      b.setValue(AnyValue.newBuilder().setStringValue(d.getStringTable(kv.getValue().getStringValueStrindex())));
    }
    return b.build();
  }

  private static String serviceName(Resource r) {
    String name = attribute(r.getAttributesList(), "service.name");
    return name.isEmpty() ? "unknown_service" : name;
  }

  private static String attribute(List<KeyValue> attributes, String key) {
    for (KeyValue kv : attributes) {
      if (kv.getKey().equals(key)) {
        AnyValue v = kv.getValue();
        return v.hasStringValue() ? v.getStringValue() : v.hasIntValue() ? Long.toString(v.getIntValue()) : "";
      }
    }
    return "";
  }

  /**
   * The id's hex text as the file has it. OTLP/JSON writes ids in hex where protobuf's JSON
   * mapping has base64 for bytes, so the parser took the hex digits for base64: encoding the
   * bytes back gives the digits (32 and 16 of them, multiples of 4) unchanged.
   */
  private static String hex(ByteString id) {
    return BASE64.encodeToString(id.toByteArray());
  }
}
