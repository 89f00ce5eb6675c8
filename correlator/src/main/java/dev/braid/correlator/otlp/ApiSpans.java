package dev.braid.correlator.otlp;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.braid.bpf.TraceContext;
import dev.braid.correlator.ProcessInfo;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.TracesData;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * --auto-sdk: the spans of programs that use the OpenTelemetry Go API alone, as
 * go.opentelemetry.io/auto/sdk serialized them: OTLP/JSON {@code TracesData}, which is protobuf's
 * JSON mapping except that trace and span IDs are hex, not base64. They become OTLP messages under
 * the process's resource, as the program set them (name, kind, attributes, events, links,
 * status). A span whose JSON was cut (larger than one event) keeps what braid knows of it itself:
 * its IDs, parent, start and end, and its name and scope when the JSON's beginning holds them,
 * with {@value #CUT_ATTRIBUTE} saying how many bytes were lost.
 */
public final class ApiSpans {
  /** On a span whose JSON was cut: the bytes of it that were lost. */
  public static final String CUT_ATTRIBUTE = "braid.span.json_bytes_dropped";

  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  /** An ID in hex (whole bytes; anything else is left to the JSON parser to refuse). */
  private static final Pattern HEX_ID = Pattern.compile("\"(traceId|spanId|parentSpanId)\"\\s*:\\s*\"((?:[0-9a-fA-F]{2})*)\"");
  private static final Pattern SCOPE_NAME = Pattern.compile("\"scope\":\\{\"name\":\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern SPAN_NAME = Pattern.compile("\"spans\":\\[\\{.*?\"name\":\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern SPAN_KIND = Pattern.compile("\"spans\":\\[\\{.*?\"kind\":(\\d)");

  private ApiSpans() {}

  /** A span that an --auto-sdk program ended, as braid's probes handed it over. */
  public record Ended(TraceContext span, String parentSpanId, long startEpochNanos, long endEpochNanos, long jsonSize, byte[] json) {
    boolean cut() {
      return jsonSize > json.length;
    }
  }

  /**
   * The span as OTLP, under {@code process}'s resource.
   *
   * @throws InvalidProtocolBufferException when its whole JSON is not OTLP/JSON
   */
  public static List<ResourceSpans> of(Ended span, ProcessInfo process) throws InvalidProtocolBufferException {
    if (span.cut()) {
      return List.of(cut(span, process));
    }
    TracesData.Builder traces = TracesData.newBuilder();
    PARSER.merge(base64Ids(new String(span.json(), StandardCharsets.UTF_8)), traces);
    List<ResourceSpans> out = new ArrayList<>(traces.getResourceSpansCount());
    for (ResourceSpans.Builder r : traces.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder scope : r.getScopeSpansBuilderList()) {
        scope.getSpansBuilderList().forEach(s -> identify(s, span));
      }
      out.add(r.setResource(OtlpAttributes.resource(process.resource())).build());
    }
    return out;
  }

  /** The same span (one of {@link #of}'s) under another parent: {@code parentSpanId} in hex, empty for none. */
  public static ResourceSpans withParent(ResourceSpans spans, String parentSpanId) {
    ResourceSpans.Builder r = spans.toBuilder();
    setParent(r.getScopeSpansBuilder(0).getSpansBuilder(0), parentSpanId);
    return r.build();
  }

  /** Whether it is a SERVER span (otelhttp's or otelgrpc's, when they run on the API alone). */
  public static boolean isServer(ResourceSpans spans) {
    return spans.getScopeSpansCount() > 0 && spans.getScopeSpans(0).getSpansCount() > 0
        && spans.getScopeSpans(0).getSpans(0).getKind() == Span.SpanKind.SPAN_KIND_SERVER;
  }

  /**
   * The program's view of its span has no IDs: braid gave the span its own, and its parent. Links
   * it made to its own spans have none either: they point nowhere, and are dropped (counted).
   */
  private static void identify(Span.Builder s, Ended span) {
    List<Span.Link> kept = s.getLinksList().stream().filter(l -> !l.getSpanId().isEmpty()).toList();
    if (kept.size() < s.getLinksCount()) {
      s.setDroppedLinksCount(s.getDroppedLinksCount() + s.getLinksCount() - kept.size()).clearLinks().addAllLinks(kept);
    }
    s.setTraceId(SpansEncoder.traceId(span.span())).setSpanId(SpansEncoder.spanId(span.span())).setFlags(1);
    setParent(s, span.parentSpanId());
  }

  private static void setParent(Span.Builder s, String parentSpanId) {
    if (parentSpanId.isEmpty()) {
      s.clearParentSpanId();
    } else {
      s.setParentSpanId(ByteString.copyFrom(HexFormat.of().parseHex(parentSpanId)));
    }
  }

  /** What is known of a span whose JSON was cut, or did not parse. */
  public static ResourceSpans cut(Ended span, ProcessInfo process) {
    String head = new String(span.json(), StandardCharsets.UTF_8);
    Span.Builder s =
        Span.newBuilder()
            .setName(first(SPAN_NAME, head).map(ApiSpans::unescape).orElse("(cut)"))
            .setKindValue(first(SPAN_KIND, head).map(Integer::parseInt).orElse(Span.SpanKind.SPAN_KIND_INTERNAL_VALUE))
            .setStartTimeUnixNano(span.startEpochNanos() > 0 ? span.startEpochNanos() : span.endEpochNanos())
            .setEndTimeUnixNano(span.endEpochNanos())
            .addAttributes(
                KeyValue.newBuilder().setKey(CUT_ATTRIBUTE).setValue(AnyValue.newBuilder().setIntValue(span.jsonSize() - span.json().length)));
    identify(s, span);
    InstrumentationScope.Builder scope = InstrumentationScope.newBuilder();
    first(SCOPE_NAME, head).map(ApiSpans::unescape).ifPresent(scope::setName);
    return ResourceSpans.newBuilder()
        .setResource(OtlpAttributes.resource(process.resource()))
        .addScopeSpans(ScopeSpans.newBuilder().setScope(scope).addSpans(s))
        .build();
  }

  /** OTLP/JSON's hex IDs as protobuf's JSON mapping has bytes: base64. */
  public static String base64Ids(String otlpJson) {
    Matcher m = HEX_ID.matcher(otlpJson);
    StringBuilder out = new StringBuilder(otlpJson.length());
    while (m.find()) {
      String base64 = Base64.getEncoder().encodeToString(HexFormat.of().parseHex(m.group(2)));
      m.appendReplacement(out, Matcher.quoteReplacement("\"" + m.group(1) + "\":\"" + base64 + "\""));
    }
    return m.appendTail(out).toString();
  }

  private static Optional<String> first(Pattern p, String text) {
    Matcher m = p.matcher(text);
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /** A JSON string's content, unescaped as far as a span name needs (\" \\ \/ and \\uXXXX). */
  private static String unescape(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\' || i + 1 >= s.length()) {
        out.append(c);
        continue;
      }
      char e = s.charAt(++i);
      switch (e) {
        case 'u' -> {
          if (i + 4 < s.length() && s.substring(i + 1, i + 5).chars().allMatch(h -> Character.digit(h, 16) >= 0)) {
            out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
            i += 4;
          } else {
            out.append("\\u"); // not an escape after all: kept as written
          }
        }
        case 'n' -> out.append('\n');
        case 't' -> out.append('\t');
        default -> out.append(e);
      }
    }
    return out.toString();
  }
}
