package dev.braid.tracer;

import dev.braid.elf.go.GoVersion;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the offsets a binary's {@link OffsetSource} knows into {@link GoOffsets}: which features
 * can be on, and why the others are off. Offsets are never guessed: what the source does not
 * say stays unknown, and the features that need it stay off, with a warning naming them.
 */
final class OffsetResolver {
  /** The channel probes read this much of a runtime.hchan at once (HCHAN_VIEW_WORDS of tracer.h). */
  static final int HCHAN_VIEW_BYTES = 64;
  private static final List<GoField> HCHAN_READ =
      List.of(GoField.HCHAN_DATAQSIZ, GoField.HCHAN_BUF, GoField.HCHAN_ELEMSIZE, GoField.HCHAN_SENDX, GoField.HCHAN_RECVX);

  private OffsetResolver() {}

  /** The offsets, and what is off because some are missing. */
  record Resolution(GoOffsets offsets, String source, List<String> warnings) {}

  /** The module whose server braid makes gRPC spans for. */
  static final String GRPC_MODULE = "google.golang.org/grpc";

  static Resolution resolve(OffsetSource source, GoVersion version, Map<String, String> buildSettings) {
    return resolve(source, version, buildSettings, Map.of());
  }

  /** @param deps the modules the binary was built with (its Go build information), path to version */
  static Resolution resolve(OffsetSource source, GoVersion version, Map<String, String> buildSettings, Map<String, String> deps) {
    List<String> warnings = new ArrayList<>();
    Map<GoField, Integer> fields = new EnumMap<>(GoField.class);
    for (GoField f : GoField.values()) {
      source.offset(f).ifPresent(off -> fields.put(f, off));
    }
    boolean swiss = usesSwissMaps(version, buildSettings);
    int features = 0;

    if (known(fields, GoField.G_PARENT_GOID, GoField.G_STARTPC)) {
      features |= GoOffsets.FEAT_INHERIT;
    } else {
      warnings.add("runtime.g lacks parentGoid (Go < 1.21) or startpc: goroutines do not inherit their parent's span");
    }
    boolean request = known(fields, GoField.REQUEST_METHOD, GoField.REQUEST_URL, GoField.URL_PATH);
    if (request && known(fields, GoField.SERVER_RESPONSE_STATUS, GoField.SERVER_RESPONSE_REQ)) {
      features |= GoOffsets.FEAT_HTTP_SERVER;
      if (!known(fields, GoField.REQUEST_PATTERN)) {
        warnings.add("net/http.Request has no Pattern (Go < 1.23): server spans carry no http.route");
      } else {
        features |= GoOffsets.FEAT_ROUTE;
      }
    }
    if (request && known(fields, GoField.CLIENT_RESPONSE_STATUS_CODE)) {
      features |= GoOffsets.FEAT_HTTP_CLIENT;
    }
    // The probes read ProtoMajor and ProtoMinor in one go: two ints, one after the other.
    if (known(fields, GoField.REQUEST_PROTO_MAJOR, GoField.REQUEST_PROTO_MINOR, GoField.RESPONSE_PROTO_MAJOR, GoField.RESPONSE_PROTO_MINOR)
        && fields.get(GoField.REQUEST_PROTO_MINOR) == fields.get(GoField.REQUEST_PROTO_MAJOR) + 8
        && fields.get(GoField.RESPONSE_PROTO_MINOR) == fields.get(GoField.RESPONSE_PROTO_MAJOR) + 8) {
      features |= GoOffsets.FEAT_HTTP_VERSION;
    } else if ((features & (GoOffsets.FEAT_HTTP_SERVER | GoOffsets.FEAT_HTTP_CLIENT)) != 0) {
      warnings.add(source.describe() + " does not describe the ProtoMajor and ProtoMinor of net/http's Request and Response: spans carry no network.protocol.version");
    }
    if ((features & GoOffsets.FEAT_HTTP_SERVER) != 0) {
      if (known(fields, GoField.H2_RESPONSE_WRITER_RWS, GoField.H2_RWS_STATUS)) {
        features |= GoOffsets.FEAT_HTTP2_SERVER;
      } else {
        warnings.add(source.describe() + " does not describe net/http's HTTP/2 response writer: HTTP/2 requests end only when their goroutine exits, as errors");
      }
    }
    boolean mapKnown =
        swiss
            ? known(fields, GoField.SWISS_DIR_PTR, GoField.SWISS_DIR_LEN, GoField.SWISS_TABLE_GROUPS, GoField.SWISS_GROUPS_DATA)
            : known(fields, GoField.HMAP_FLAGS, GoField.HMAP_B, GoField.HMAP_BUCKETS, GoField.HMAP_OLDBUCKETS);
    if ((features & (GoOffsets.FEAT_HTTP_SERVER | GoOffsets.FEAT_HTTP_CLIENT)) != 0) {
      if (known(fields, GoField.REQUEST_HEADER) && mapKnown) {
        features |= GoOffsets.FEAT_TRACEPARENT;
      } else {
        warnings.add(
            "the layout of http.Header's map is unknown to "
                + source.describe()
                + ": incoming traceparent headers are ignored (every server span starts a trace) and --propagate is off");
      }
    }
    features |= grpcServer(fields, source, warnings);
    if ((features & GoOffsets.FEAT_GRPC_SERVER) != 0 && known(fields, GoField.GRPC_CLIENT_CONN_TARGET, GoField.GRPC_ERROR_S)) {
      features |= GoOffsets.FEAT_GRPC_CLIENT; // it also needs the status offsets and symbols (GoProgram)
    }
    if (deps.containsKey(GRPC_MODULE) && source instanceof OffsetSource.Dwarf && !known(fields, GoField.GRPC_STREAM_ID, GoField.GRPC_STREAM_METHOD)) {
      // (a binary without DWARF is told by GoProgram whether grpc's offset table covers its grpc)
      warnings.add("its DWARF does not describe the transport.Stream of " + GRPC_MODULE + " " + deps.get(GRPC_MODULE) + ": gRPC spans are off");
    }
    features |= sdkSpans(fields, source, deps, warnings);
    features |= autoSdk(deps, warnings);
    if (!known(fields, GoField.HCHAN_DATAQSIZ, GoField.HCHAN_BUF, GoField.HCHAN_ELEMSIZE, GoField.HCHAN_SENDX, GoField.HCHAN_RECVX,
        GoField.SUDOG_G, GoField.SUDOG_IS_SELECT, GoField.SCASE_C, GoField.SCASE_SIZE)) {
      warnings.add(source.describe() + " does not describe runtime.hchan, runtime.sudog and runtime.scase: channel links are off");
    } else if (HCHAN_READ.stream().anyMatch(f -> fields.get(f) > HCHAN_VIEW_BYTES - 8)) {
      warnings.add("runtime.hchan's fields lie beyond the " + HCHAN_VIEW_BYTES + " bytes the channel probes read: channel links are off");
    } else {
      features |= GoOffsets.FEAT_CHAN_LINKS;
    }
    return new Resolution(
        new GoOffsets(features, fields, swiss ? GoOffsets.MAP_LAYOUT_SWISS : GoOffsets.MAP_LAYOUT_BUCKETS, 0, List.of()),
        source.describe(),
        warnings);
  }

  /**
   * google.golang.org/grpc server spans, when the binary links grpc's transport and its offsets
   * are known. Its ServerStream embeds a *Stream (grpc 1.69 to 1.76: the next member follows at
   * +8) or a Stream (1.77+); before 1.69 handleStream takes the Stream itself.
   */
  private static int grpcServer(Map<GoField, Integer> fields, OffsetSource source, List<String> warnings) {
    if (!known(fields, GoField.GRPC_STREAM_ID, GoField.GRPC_STREAM_METHOD)) {
      return 0; // no grpc server in this binary (or nothing says how it is laid out)
    }
    if (!known(fields, GoField.GRPC_STREAM_SIZE, GoField.GRPC_STATUS_S, GoField.GRPC_STATUS_CODE, GoField.H2_META_HEADERS_FRAME,
        GoField.H2_META_FIELDS, GoField.H2_HEADERS_FRAME_HEADER, GoField.H2_FRAME_STREAM_ID, GoField.HPACK_FIELD_SIZE,
        GoField.HPACK_FIELD_NAME, GoField.HPACK_FIELD_VALUE)
        || fields.get(GoField.HPACK_FIELD_NAME) != 0) {
      warnings.add(source.describe() + " does not describe grpc's status and the HTTP/2 frames it reads: gRPC server spans are off");
      return 0;
    }
    int features = GoOffsets.FEAT_GRPC_SERVER;
    if (known(fields, GoField.GRPC_SERVER_STREAM_STREAM)) {
      int embedded = fields.get(GoField.GRPC_SERVER_STREAM_STREAM);
      if (!known(fields, GoField.GRPC_SERVER_STREAM_ST)) {
        warnings.add(source.describe() + " does not say how grpc's ServerStream holds its Stream: gRPC server spans are off");
        return 0;
      }
      int next = fields.get(GoField.GRPC_SERVER_STREAM_ST);
      if (next == embedded + 8 && fields.get(GoField.GRPC_STREAM_SIZE) != 8) {
        features |= GoOffsets.FEAT_GRPC_STREAM_PTR;
      }
    }
    return features;
  }

  /** The module whose recording spans braid follows. */
  static final String OTEL_SDK_MODULE = "go.opentelemetry.io/otel/sdk";

  /**
   * The OpenTelemetry Go SDK's spans, when the binary links the SDK and its offsets are known. The
   * probes read a SpanContext's trace id, span id and flags at 0, 16 and 24 (the trace API's layout
   * since v1.0).
   */
  private static int sdkSpans(Map<GoField, Integer> fields, OffsetSource source, Map<String, String> deps, List<String> warnings) {
    if (!known(fields, GoField.SDK_SPAN_CONTEXT, GoField.SDK_SPAN_KIND, GoField.SDK_SPAN_CONTEXT_SIZE, GoField.SDK_SPAN_CONTEXT_TRACE_ID, GoField.SDK_SPAN_CONTEXT_SPAN_ID,
        GoField.SDK_SPAN_CONTEXT_FLAGS)) {
      if (deps.containsKey(OTEL_SDK_MODULE) && source instanceof OffsetSource.Dwarf) {
        warnings.add("its DWARF does not describe the recording span of " + OTEL_SDK_MODULE + " " + deps.get(OTEL_SDK_MODULE)
            + ": the application's spans are not followed (samples name braid's spans)");
      }
      return 0;
    }
    if (fields.get(GoField.SDK_SPAN_CONTEXT_TRACE_ID) != 0 || fields.get(GoField.SDK_SPAN_CONTEXT_SPAN_ID) != 16
        || fields.get(GoField.SDK_SPAN_CONTEXT_FLAGS) != 24) {
      warnings.add("the trace.SpanContext of " + OTEL_SDK_MODULE + " " + deps.getOrDefault(OTEL_SDK_MODULE, "")
          + " is laid out in a way braid does not know: the application's spans are not followed");
      return 0;
    }
    return GoOffsets.FEAT_SDK_SPANS;
  }

  /** The module through which braid becomes the SDK of programs that use the OpenTelemetry API alone (--auto-sdk). */
  static final String AUTO_SDK_MODULE = "go.opentelemetry.io/auto/sdk";

  /**
   * --auto-sdk can serve the binary: it links go.opentelemetry.io/auto/sdk (the API's global
   * tracer does since otel v1.34). Its probes read their arguments' registers only: no offsets.
   */
  private static int autoSdk(Map<String, String> deps, List<String> warnings) {
    if (deps.containsKey(AUTO_SDK_MODULE)) {
      return GoOffsets.FEAT_AUTO_SDK;
    }
    boolean beforeAutoSdk = OffsetTable.Scheme.OTEL_SDK.parse(deps.getOrDefault(OTEL_API_MODULE, ""))
        .map(v -> v.compareTo(new GoVersion(1, 34, 0)) < 0).orElse(false);
    if (beforeAutoSdk && !deps.containsKey(OTEL_SDK_MODULE)) {
      warnings.add("it uses " + OTEL_API_MODULE + " " + deps.get(OTEL_API_MODULE) + " without an SDK, older than v1.34, which brought "
          + AUTO_SDK_MODULE + ": --auto-sdk cannot record its spans");
    }
    return 0;
  }

  /** The OpenTelemetry Go API, and its module that holds SpanContext. */
  static final String OTEL_API_MODULE = "go.opentelemetry.io/otel";
  static final String OTEL_TRACE_MODULE = "go.opentelemetry.io/otel/trace";

  private static boolean known(Map<GoField, Integer> fields, GoField... needed) {
    for (GoField f : needed) {
      if (!fields.containsKey(f)) {
        return false;
      }
    }
    return true;
  }

  /** Go 1.24 made swiss tables the map implementation; GOEXPERIMENT=noswissmap kept the old one until 1.26. */
  static boolean usesSwissMaps(GoVersion version, Map<String, String> buildSettings) {
    String experiments = buildSettings.getOrDefault("GOEXPERIMENT", "");
    boolean optedOut = List.of(experiments.split(",")).contains("noswissmap");
    return version.atLeast(1, 24) && !(optedOut && !version.atLeast(1, 26));
  }
}
