package dev.braid.correlator.otlp;

import dev.braid.correlator.Batch;
import dev.braid.correlator.CompletedSpan;
import dev.braid.correlator.Output;
import dev.braid.correlator.ProcessInfo;
import dev.braid.correlator.SpanLink;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code traces.jsonl}: OTLP/JSON, one {@code ExportTraceServiceRequest} per line, the format of
 * the collector's file exporter (IDs in hex, 64-bit integers as strings, enums as numbers, field
 * names in lowerCamelCase). Written straight from {@link CompletedSpan}s: at tens of thousands of
 * spans a second, building the SDK's objects first cost more than everything else braid does.
 *
 * <p>Owns the file; {@link #close()} flushes and closes it. Not thread-safe.
 */
public final class TraceFile implements Output {
  static final String SCOPE_NAME = "dev.braid.tracer";
  static final String SCOPE_VERSION = "0.1.0";
  // OTLP SpanFlags: the parent's remoteness is known (bit 8), and it is remote (bit 9).
  private static final int HAS_IS_REMOTE = 0x100;
  private static final int IS_REMOTE = 0x200;
  /** OTLP's Span.Link.flags of a channel link: sampled (braid records every span), and local. */
  static final int LINK_FLAGS = 0x01 | HAS_IS_REMOTE;

  private final JsonLinesFile file;
  private JsonOut json;

  public TraceFile(Path path) {
    this.file = new JsonLinesFile(path);
  }

  public Path path() {
    return file.path();
  }

  @Override
  public String name() {
    return file.path().getFileName().toString();
  }

  @Override
  public void write(Batch batch) {
    write(batch.spans());
    if (!batch.applicationSpans().isEmpty()) {
      file.write(ExportTraceServiceRequest.newBuilder().addAllResourceSpans(batch.applicationSpans()).build());
    }
  }

  /** Appends one line with these spans, grouped by process (nothing for none). */
  public void write(List<CompletedSpan> spans) {
    if (spans.isEmpty()) {
      return;
    }
    Map<ProcessInfo, List<CompletedSpan>> byProcess = new LinkedHashMap<>();
    ProcessInfo last = null;
    List<CompletedSpan> ofLast = null;
    for (CompletedSpan s : spans) {
      if (s.process() != last) { // spans come in runs of one process: its record is hashed once a run
        last = s.process();
        ofLast = byProcess.computeIfAbsent(last, p -> new ArrayList<>());
      }
      ofLast.add(s);
    }
    file.writeLine(
        out -> {
          json = out;
          resourceSpans(byProcess);
        });
  }

  private void resourceSpans(Map<ProcessInfo, List<CompletedSpan>> byProcess) {
    json.raw("{\"resourceSpans\":[");
    boolean firstResource = true;
    for (Map.Entry<ProcessInfo, List<CompletedSpan>> e : byProcess.entrySet()) {
      if (!firstResource) {
        json.raw(',');
      }
      firstResource = false;
      json.raw("{\"resource\":{");
      attributes(e.getKey().resource().getAttributes());
      json.raw("},\"scopeSpans\":[{\"scope\":{\"name\":\"" + SCOPE_NAME + "\",\"version\":\"" + SCOPE_VERSION + "\"},\"spans\":[");
      boolean firstSpan = true;
      for (CompletedSpan s : e.getValue()) {
        if (!firstSpan) {
          json.raw(',');
        }
        firstSpan = false;
        span(s);
      }
      json.raw("]}]}");
    }
    json.raw("]}");
  }

  private void span(CompletedSpan s) {
    json.raw("{\"traceId\":\"").hex(s.context().traceHigh()).hex(s.context().traceLow());
    json.raw("\",\"spanId\":\"").hex(s.context().span()).raw('"');
    if (!s.parentSpanId().isEmpty()) {
      json.raw(",\"parentSpanId\":\"").raw(s.parentSpanId()).raw('"');
    }
    json.raw(",\"flags\":").number(flags(s));
    json.raw(",\"startTimeUnixNano\":").quoted(s.startEpochNanos());
    json.raw(",\"endTimeUnixNano\":").quoted(s.endEpochNanos());
    json.bytes(descriptions.of(s));
    if (!s.links().isEmpty()) {
      json.raw(",\"links\":[");
      for (int i = 0; i < s.links().size(); i++) {
        SpanLink link = s.links().get(i);
        json.raw(i == 0 ? "" : ",").raw("{\"traceId\":\"").hex(link.to().traceHigh()).hex(link.to().traceLow());
        json.raw("\",\"spanId\":\"").hex(link.to().span()).raw("\",\"flags\":").number(LINK_FLAGS);
        json.raw(",\"attributes\":[");
        first = true;
        link.visitAttributes(spanAttributes);
        json.raw("]}");
      }
      json.raw(']');
    }
    if (s.droppedLinks() > 0) {
      json.raw(",\"droppedLinksCount\":").number(s.droppedLinks());
    }
    json.raw('}');
  }

  /**
   * {@code ,"name":..,"kind":..,"attributes":[..],"status":{..}} of recent spans, encoded once: a
   * service's spans share a few names, routes, hosts and statuses, and these bytes were most of
   * a line's cost. Two-way sets found by the fields they derive from, so that two descriptions of
   * one set do not evict each other at every other span; the decoder interns those strings, so
   * comparing them by identity finds a match at once (an equal string that is another object
   * only costs encoding again).
   */
  private final class Descriptions {
    private static final int SETS = 128; // a power of two
    private static final int WAYS = 2;
    private final CompletedSpan[] spans = new CompletedSpan[SETS * WAYS];
    private final byte[][] encoded = new byte[SETS * WAYS][];
    /** Per set, the way a miss replaces: the one not used last. */
    private final byte[] victim = new byte[SETS];
    private final JsonOut scratch = new JsonOut();

    byte[] of(CompletedSpan s) {
      int hash = s.kind().ordinal() + 31 * (s.endReason().ordinal() + 31 * (Long.hashCode(s.statusCode()) + 31 * (s.method().hashCode()
          + 31 * (s.path().hashCode() + 31 * (s.route().hashCode() + 31 * (s.host().hashCode() + 31 * s.rpcSystem().hashCode()))))));
      int set = (hash ^ (hash >>> 16)) & (SETS - 1);
      for (int way = 0; way < WAYS; way++) {
        CompletedSpan cached = spans[set * WAYS + way];
        if (cached != null && sameDescription(cached, s)) {
          victim[set] = (byte) (1 - way);
          return encoded[set * WAYS + way];
        }
      }
      JsonOut line = json;
      json = scratch;
      scratch.reset();
      describe(s);
      json = line;
      int slot = set * WAYS + victim[set];
      victim[set] = (byte) (1 - victim[set]);
      spans[slot] = s;
      encoded[slot] = scratch.toBytes();
      return encoded[slot];
    }

    private static boolean sameDescription(CompletedSpan a, CompletedSpan b) {
      return a.kind() == b.kind() && a.endReason() == b.endReason() && a.statusCode() == b.statusCode() && a.method() == b.method() && a.path() == b.path()
          && a.route() == b.route() && a.host() == b.host() && a.protocolVersion() == b.protocolVersion() && a.rpcSystem() == b.rpcSystem();
    }
  }

  private final Descriptions descriptions = new Descriptions();

  /** Name, kind, attributes and status: what a span's request says, not which span it was. */
  private void describe(CompletedSpan s) {
    json.raw(",\"name\":").string(s.name());
    json.raw(",\"kind\":").number(kind(s.kind()));
    json.raw(",\"attributes\":[");
    first = true;
    s.visitAttributes(spanAttributes);
    json.raw(']');
    json.raw(",\"status\":{");
    StatusData status = s.status();
    if (status.getStatusCode() == StatusCode.ERROR) {
      json.raw("\"code\":2");
      if (!status.getDescription().isEmpty()) {
        json.raw(",\"message\":").string(status.getDescription());
      }
    }
    json.raw('}');
  }

  private boolean first;
  /** {@code {"key":"...","value":{} of each attribute key, encoded once: a span has seven or so. */
  private final Map<AttributeKey<?>, byte[]> keyPrefixes = new HashMap<>();

  private static byte[] keyPrefix(AttributeKey<?> key) {
    JsonOut out = new JsonOut();
    out.raw("{\"key\":").string(key.getKey()).raw(",\"value\":{");
    return out.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Writes each attribute as {@code {"key":..,"value":{..}}}, comma-separated. */
  private final CompletedSpan.AttributeVisitor spanAttributes =
      new CompletedSpan.AttributeVisitor() {
        @Override
        public void string(AttributeKey<String> key, String value) {
          begin(key).raw("\"stringValue\":").string(value).raw("}}");
        }

        @Override
        public void number(AttributeKey<Long> key, long value) {
          begin(key).raw("\"intValue\":").quoted(value).raw("}}");
        }

        @Override
        public void flag(AttributeKey<Boolean> key, boolean value) {
          begin(key).raw("\"boolValue\":").raw(Boolean.toString(value)).raw("}}");
        }

        private JsonOut begin(AttributeKey<?> key) {
          if (!first) {
            json.raw(',');
          }
          first = false;
          return json.bytes(keyPrefixes.computeIfAbsent(key, TraceFile::keyPrefix));
        }
      };

  /** {@code "attributes":[{"key":..,"value":{"stringValue":..}}, ...]} */
  private void attributes(Attributes attributes) {
    json.raw("\"attributes\":[");
    boolean[] first = {true};
    attributes.forEach(
        (AttributeKey<?> key, Object value) -> {
          if (!first[0]) {
            json.raw(',');
          }
          first[0] = false;
          json.raw("{\"key\":").string(key.getKey()).raw(",\"value\":{");
          switch (value) {
            case Long l -> json.raw("\"intValue\":").quoted(l);
            case Boolean b -> json.raw("\"boolValue\":").raw(b.toString());
            case Double d -> json.raw("\"doubleValue\":").raw(d.toString());
            default -> json.raw("\"stringValue\":").string(value.toString());
          }
          json.raw("}}");
        });
    json.raw(']');
  }

  /** OTLP's Span.flags: the W3C trace flags, and whether the parent is remote. */
  static int flags(CompletedSpan s) {
    int flags = s.traceFlags() | HAS_IS_REMOTE;
    if (!s.parentSpanId().isEmpty() && s.kind() == SpanKind.SERVER) {
      flags |= IS_REMOTE; // a server span's parent came over the wire
    }
    return flags;
  }

  /** OTLP's Span.SpanKind numbers. */
  static int kind(SpanKind kind) {
    return switch (kind) {
      case INTERNAL -> 1;
      case SERVER -> 2;
      case CLIENT -> 3;
      case PRODUCER -> 4;
      case CONSUMER -> 5;
    };
  }

  @Override
  public void close() {
    file.close();
  }
}
