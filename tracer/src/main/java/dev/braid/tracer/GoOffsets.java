package dev.braid.tracer;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.StructLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What the probes need to know of one Go binary: {@code struct go_offsets} of
 * bpf/src/main/c/tracer.h. Offsets of {@link GoField}s ({@link #UNKNOWN} when the binary has no
 * such member), the features that are on, and a few addresses.
 *
 * @param features the {@code FEAT_*} bits that are on
 * @param fields member offsets
 * @param mapLayout {@link #MAP_LAYOUT_SWISS} or {@link #MAP_LAYOUT_BUCKETS}
 * @param spawnSite link-time address of the spawn probe (how the probe finds a PIE's load bias)
 * @param noInheritPcs link-time entries of functions whose goroutines do not inherit (at most 24)
 */
public record GoOffsets(
    int features, Map<GoField, Integer> fields, int mapLayout, long spawnSite, List<Long> noInheritPcs, GrpcClientEnd grpcClientEnd) {

  /**
   * What the gRPC client's end probe compares a call's error with, as link-time addresses; its own
   * site's address gives a PIE's load bias.
   *
   * @param site where the probe sits
   * @param statusErrorMethod the code of {@code (*status.Error).Error}, the first method of its itab as an {@code error}
   * @param errorStringMethod the code of {@code (*errors.errorString).Error}, which io.EOF's itab holds
   */
  public record GrpcClientEnd(long site, long statusErrorMethod, long errorStringMethod) {
    public static final GrpcClientEnd NONE = new GrpcClientEnd(0, 0, 0);
  }

  public GoOffsets(int features, Map<GoField, Integer> fields, int mapLayout, long spawnSite, List<Long> noInheritPcs) {
    this(features, fields, mapLayout, spawnSite, noInheritPcs, GrpcClientEnd.NONE);
  }

  public static final int UNKNOWN = -1;
  public static final int FEAT_HTTP_SERVER = 1;
  public static final int FEAT_TRACEPARENT = 1 << 1;
  public static final int FEAT_ROUTE = 1 << 2;
  public static final int FEAT_INHERIT = 1 << 3;
  public static final int FEAT_HTTP_CLIENT = 1 << 4;
  public static final int FEAT_PROPAGATE = 1 << 5;
  /** Keep traces_ctx_v1: the goroutine-switch probes are attached (not --ctx-source sample). */
  public static final int FEAT_CTX_MAP = 1 << 6;
  /** Pair channel sends with receives: the channel probes are attached. */
  public static final int FEAT_CHAN_LINKS = 1 << 7;
  /** net/http's HTTP/2 server: the end of its handlers is probed. */
  public static final int FEAT_HTTP2_SERVER = 1 << 8;
  /** The HTTP version of requests and responses can be read. */
  public static final int FEAT_HTTP_VERSION = 1 << 9;
  /** google.golang.org/grpc server spans. */
  public static final int FEAT_GRPC_SERVER = 1 << 10;
  /** transport.ServerStream embeds a *Stream (grpc 1.69 to 1.76), not a Stream. */
  public static final int FEAT_GRPC_STREAM_PTR = 1 << 11;
  /** google.golang.org/grpc client spans. */
  public static final int FEAT_GRPC_CLIENT = 1 << 12;
  /** The OpenTelemetry Go SDK's recording spans are followed. */
  public static final int FEAT_SDK_SPANS = 1 << 13;
  /** --auto-sdk: braid is the SDK of programs that use the OpenTelemetry API alone (go.opentelemetry.io/auto/sdk). */
  public static final int FEAT_AUTO_SDK = 1 << 14;
  public static final int MAP_LAYOUT_BUCKETS = 1;
  public static final int MAP_LAYOUT_SWISS = 2;
  static final int NO_INHERIT_MAX = 24;

  /** The C struct, member for member (the order of the u32 fields is tracer.h's). */
  static final StructLayout LAYOUT =
      structLayout(
              JAVA_INT.withName("features"),
              JAVA_INT.withName("g_goid"),
              JAVA_INT.withName("g_parent_goid"),
              JAVA_INT.withName("g_startpc"),
              JAVA_INT.withName("request_method"),
              JAVA_INT.withName("request_url"),
              JAVA_INT.withName("request_header"),
              JAVA_INT.withName("request_host"),
              JAVA_INT.withName("request_pattern"),
              JAVA_INT.withName("url_host"),
              JAVA_INT.withName("url_path"),
              JAVA_INT.withName("server_response_status"),
              JAVA_INT.withName("server_response_req"),
              JAVA_INT.withName("client_response_status_code"),
              JAVA_INT.withName("client_response_request"),
              JAVA_INT.withName("map_layout"),
              JAVA_INT.withName("hmap_flags"),
              JAVA_INT.withName("hmap_b"),
              JAVA_INT.withName("hmap_buckets"),
              JAVA_INT.withName("hmap_oldbuckets"),
              JAVA_INT.withName("swiss_dir_ptr"),
              JAVA_INT.withName("swiss_dir_len"),
              JAVA_INT.withName("swiss_table_groups"),
              JAVA_INT.withName("hchan_dataqsiz"),
              JAVA_INT.withName("hchan_buf"),
              JAVA_INT.withName("hchan_elemsize"),
              JAVA_INT.withName("hchan_sendx"),
              JAVA_INT.withName("hchan_recvx"),
              JAVA_INT.withName("sudog_g"),
              JAVA_INT.withName("sudog_is_select"),
              JAVA_INT.withName("scase_c"),
              JAVA_INT.withName("scase_size"),
              JAVA_INT.withName("request_proto_major"),
              JAVA_INT.withName("client_response_proto_major"),
              JAVA_INT.withName("h2_response_writer_rws"),
              JAVA_INT.withName("h2_rws_status"),
              JAVA_INT.withName("grpc_server_stream_stream"),
              JAVA_INT.withName("grpc_stream_id"),
              JAVA_INT.withName("grpc_stream_method"),
              JAVA_INT.withName("grpc_status_s"),
              JAVA_INT.withName("grpc_status_code"),
              JAVA_INT.withName("h2_meta_headers_frame"),
              JAVA_INT.withName("h2_meta_fields"),
              JAVA_INT.withName("h2_frame_stream_id"),
              JAVA_INT.withName("hpack_field_size"),
              JAVA_INT.withName("hpack_field_value"),
              JAVA_INT.withName("grpc_client_conn_target"),
              JAVA_INT.withName("grpc_error_s"),
              JAVA_INT.withName("sdk_span_context"),
              JAVA_INT.withName("sdk_new_span_sc"),
              JAVA_INT.withName("sdk_span_kind"),
              paddingLayout(4),
              JAVA_LONG.withName("spawn_site"),
              sequenceLayout(NO_INHERIT_MAX, JAVA_LONG).withName("no_inherit_pc"),
              JAVA_LONG.withName("grpc_client_end_site"),
              JAVA_LONG.withName("grpc_status_error_method"),
              JAVA_LONG.withName("errors_string_method"))
          .withName("go_offsets");

  /** The GoFields in the order of the C struct's u32 members after map_layout-free ones. */
  private static final List<GoField> BEFORE_MAP_LAYOUT =
      List.of(
          GoField.G_GOID, GoField.G_PARENT_GOID, GoField.G_STARTPC,
          GoField.REQUEST_METHOD, GoField.REQUEST_URL, GoField.REQUEST_HEADER, GoField.REQUEST_HOST,
          GoField.REQUEST_PATTERN, GoField.URL_HOST, GoField.URL_PATH, GoField.SERVER_RESPONSE_STATUS,
          GoField.SERVER_RESPONSE_REQ, GoField.CLIENT_RESPONSE_STATUS_CODE, GoField.CLIENT_RESPONSE_REQUEST);
  private static final List<GoField> AFTER_MAP_LAYOUT =
      List.of(
          GoField.HMAP_FLAGS, GoField.HMAP_B, GoField.HMAP_BUCKETS, GoField.HMAP_OLDBUCKETS, GoField.SWISS_DIR_PTR,
          GoField.SWISS_DIR_LEN, GoField.SWISS_TABLE_GROUPS, GoField.HCHAN_DATAQSIZ, GoField.HCHAN_BUF, GoField.HCHAN_ELEMSIZE,
          GoField.HCHAN_SENDX, GoField.HCHAN_RECVX, GoField.SUDOG_G, GoField.SUDOG_IS_SELECT, GoField.SCASE_C, GoField.SCASE_SIZE,
          GoField.REQUEST_PROTO_MAJOR, GoField.RESPONSE_PROTO_MAJOR, GoField.H2_RESPONSE_WRITER_RWS, GoField.H2_RWS_STATUS,
          GoField.GRPC_SERVER_STREAM_STREAM, GoField.GRPC_STREAM_ID, GoField.GRPC_STREAM_METHOD, GoField.GRPC_STATUS_S, GoField.GRPC_STATUS_CODE,
          GoField.H2_META_HEADERS_FRAME, GoField.H2_META_FIELDS, GoField.H2_FRAME_STREAM_ID, GoField.HPACK_FIELD_SIZE, GoField.HPACK_FIELD_VALUE,
          GoField.GRPC_CLIENT_CONN_TARGET, GoField.GRPC_ERROR_S, GoField.SDK_SPAN_CONTEXT, GoField.SDK_SPAN_CONTEXT_SIZE, GoField.SDK_SPAN_KIND);

  public GoOffsets {
    Map<GoField, Integer> copy = new EnumMap<>(GoField.class);
    copy.putAll(fields);
    fields = Map.copyOf(copy);
    if (noInheritPcs.size() > NO_INHERIT_MAX) {
      throw new IllegalArgumentException("at most " + NO_INHERIT_MAX + " no-inherit functions");
    }
    noInheritPcs = List.copyOf(noInheritPcs);
  }

  public boolean has(int feature) {
    return (features & feature) == feature;
  }

  /** A member's offset, or {@link #UNKNOWN}. */
  public int offset(GoField field) {
    return fields.getOrDefault(field, UNKNOWN);
  }

  /** The same offsets with other features. */
  public GoOffsets withFeatures(int newFeatures) {
    return new GoOffsets(newFeatures, fields, mapLayout, spawnSite, noInheritPcs, grpcClientEnd);
  }

  /** The same offsets, with what the gRPC client's end probe needs. */
  public GoOffsets withGrpcClientEnd(GrpcClientEnd end) {
    return new GoOffsets(features, fields, mapLayout, spawnSite, noInheritPcs, end);
  }

  /** The same offsets, with where the spawn probe sits and whose goroutines do not inherit. */
  public GoOffsets withSpawn(long site, List<Long> noInherit) {
    return new GoOffsets(features, fields, mapLayout, site, noInherit, grpcClientEnd);
  }

  /** The C struct's bytes; unknown offsets are written as 0 (their features are off). */
  public byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate((int) LAYOUT.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(features);
    for (GoField f : BEFORE_MAP_LAYOUT) {
      b.putInt(Math.max(offset(f), 0));
    }
    b.putInt(mapLayout);
    for (GoField f : AFTER_MAP_LAYOUT) {
      // The probes read groupsReference.data (then lengthMask at +8) through table.groups, a
      // HEADERS frame's stream id through its FrameHeader, and the SDK's sc past psc.
      int extra = switch (f) {
        case SWISS_TABLE_GROUPS -> Math.max(offset(GoField.SWISS_GROUPS_DATA), 0);
        case H2_FRAME_STREAM_ID -> Math.max(offset(GoField.H2_HEADERS_FRAME_HEADER), 0);
        // newRecordingSpan's sc: on the stack above the return address (8 bytes) and psc (a SpanContext)
        case SDK_SPAN_CONTEXT_SIZE -> 8;
        default -> 0;
      };
      b.putInt(Math.max(offset(f), 0) + extra);
    }
    b.putInt(0); // padding: the longs that follow are 8-aligned
    b.putLong(spawnSite);
    List<Long> pcs = new ArrayList<>(noInheritPcs);
    while (pcs.size() < NO_INHERIT_MAX) {
      pcs.add(0L);
    }
    pcs.forEach(b::putLong);
    b.putLong(grpcClientEnd.site());
    b.putLong(grpcClientEnd.statusErrorMethod());
    b.putLong(grpcClientEnd.errorStringMethod());
    return b.array();
  }
}
