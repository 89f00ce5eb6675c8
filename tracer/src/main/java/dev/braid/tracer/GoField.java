package dev.braid.tracer;

import dev.braid.elf.go.GoDwarf;
import java.util.List;
import java.util.OptionalLong;

/**
 * A struct member the probes read, named as Go's DWARF names it. The offset table for stripped
 * binaries ({@code go-offsets.tsv}) has one row per constant.
 */
public enum GoField {
  G_GOID("runtime.g", "goid"),
  G_PARENT_GOID("runtime.g", "parentGoid"), // Go 1.21+
  G_STARTPC("runtime.g", "startpc"),
  G_M("runtime.g", "m"),
  M_CURG("runtime.m", "curg"),
  REQUEST_METHOD("net/http.Request", "Method"),
  REQUEST_URL("net/http.Request", "URL"),
  REQUEST_HEADER("net/http.Request", "Header"),
  REQUEST_HOST("net/http.Request", "Host"),
  REQUEST_PATTERN("net/http.Request", "Pattern"), // Go 1.23+
  URL_HOST("net/url.URL", "Host"),
  URL_PATH("net/url.URL", "Path"),
  SERVER_RESPONSE_STATUS("net/http.response", "status"),
  SERVER_RESPONSE_REQ("net/http.response", "req"),
  CLIENT_RESPONSE_STATUS_CODE("net/http.Response", "StatusCode"),
  CLIENT_RESPONSE_REQUEST("net/http.Response", "Request"),
  HMAP_FLAGS("runtime.hmap", "flags"), // Go <= 1.23, or GOEXPERIMENT=noswissmap
  HMAP_B("runtime.hmap", "B"),
  HMAP_BUCKETS("runtime.hmap", "buckets"),
  HMAP_OLDBUCKETS("runtime.hmap", "oldbuckets"),
  SWISS_DIR_PTR("internal/runtime/maps.Map", "dirPtr"), // Go 1.24+
  SWISS_DIR_LEN("internal/runtime/maps.Map", "dirLen"),
  SWISS_TABLE_GROUPS("internal/runtime/maps.table", "groups"),
  SWISS_GROUPS_DATA("internal/runtime/maps.groupsReference", "data"),
  HCHAN_DATAQSIZ("runtime.hchan", "dataqsiz"),
  HCHAN_BUF("runtime.hchan", "buf"),
  HCHAN_ELEMSIZE("runtime.hchan", "elemsize"),
  HCHAN_SENDX("runtime.hchan", "sendx"),
  HCHAN_RECVX("runtime.hchan", "recvx"),
  SUDOG_G("runtime.sudog", "g"),
  SUDOG_IS_SELECT("runtime.sudog", "isSelect"),
  SCASE_C("runtime.scase", "c"),
  SCASE_SIZE("runtime.scase", GoField.SIZE), // the stride of selectgo's case array
  REQUEST_PROTO_MAJOR("net/http.Request", "ProtoMajor"), // ProtoMinor is the next int
  REQUEST_PROTO_MINOR("net/http.Request", "ProtoMinor"),
  RESPONSE_PROTO_MAJOR("net/http.Response", "ProtoMajor"),
  RESPONSE_PROTO_MINOR("net/http.Response", "ProtoMinor"),
  // net/http's HTTP/2 server: bundled in net/http up to Go 1.26, net/http/internal/http2 since 1.27.
  H2_RESPONSE_WRITER_RWS("net/http.http2responseWriter", "rws", "net/http/internal/http2.responseWriter"),
  H2_RWS_STATUS("net/http.http2responseWriterState", "status", "net/http/internal/http2.responseWriterState"),
  // google.golang.org/grpc (its transport streams and status), and the golang.org/x/net/http2 frames it reads.
  GRPC_SERVER_STREAM_STREAM("google.golang.org/grpc/internal/transport.ServerStream", "Stream"), // grpc 1.69+
  GRPC_SERVER_STREAM_ST("google.golang.org/grpc/internal/transport.ServerStream", "st"),
  GRPC_STREAM_SIZE("google.golang.org/grpc/internal/transport.Stream", GoField.SIZE),
  GRPC_STREAM_ID("google.golang.org/grpc/internal/transport.Stream", "id"),
  GRPC_STREAM_METHOD("google.golang.org/grpc/internal/transport.Stream", "method"),
  GRPC_STATUS_S("google.golang.org/grpc/internal/status.Status", "s"),
  GRPC_STATUS_CODE("google.golang.org/genproto/googleapis/rpc/status.Status", "Code"),
  H2_META_HEADERS_FRAME("golang.org/x/net/http2.MetaHeadersFrame", "HeadersFrame"),
  H2_META_FIELDS("golang.org/x/net/http2.MetaHeadersFrame", "Fields"),
  H2_HEADERS_FRAME_HEADER("golang.org/x/net/http2.HeadersFrame", "FrameHeader"),
  H2_FRAME_STREAM_ID("golang.org/x/net/http2.FrameHeader", "StreamID"),
  HPACK_FIELD_SIZE("golang.org/x/net/http2/hpack.HeaderField", GoField.SIZE),
  HPACK_FIELD_NAME("golang.org/x/net/http2/hpack.HeaderField", "Name"),
  HPACK_FIELD_VALUE("golang.org/x/net/http2/hpack.HeaderField", "Value"),
  GRPC_CLIENT_CONN_TARGET("google.golang.org/grpc.ClientConn", "target"),
  GRPC_ERROR_S("google.golang.org/grpc/internal/status.Error", "s"),
  // The OpenTelemetry Go SDK's recording span and the SpanContext of the trace API.
  SDK_SPAN_CONTEXT("go.opentelemetry.io/otel/sdk/trace.recordingSpan", "spanContext"),
  SDK_SPAN_KIND("go.opentelemetry.io/otel/sdk/trace.recordingSpan", "spanKind"),
  SDK_SPAN_CONTEXT_SIZE("go.opentelemetry.io/otel/trace.SpanContext", GoField.SIZE),
  SDK_SPAN_CONTEXT_TRACE_ID("go.opentelemetry.io/otel/trace.SpanContext", "traceID"),
  SDK_SPAN_CONTEXT_SPAN_ID("go.opentelemetry.io/otel/trace.SpanContext", "spanID"),
  SDK_SPAN_CONTEXT_FLAGS("go.opentelemetry.io/otel/trace.SpanContext", "traceFlags");

  /** The member name that stands for the struct's own size. */
  static final String SIZE = "(size)";

  private final String struct;
  private final String member;
  private final List<String> movedTo;

  /**
   * @param movedTo the names the struct has in later Go releases (the table names the member by
   *     its first name, whichever a binary has)
   */
  GoField(String struct, String member, String... movedTo) {
    this.struct = struct;
    this.member = member;
    this.movedTo = List.of(movedTo);
  }

  public String struct() {
    return struct;
  }

  public String member() {
    return member;
  }

  /** The member's offset (or the struct's size, for {@link #SIZE}) in a binary's DWARF, under any of the struct's names. */
  public OptionalLong readFrom(GoDwarf dwarf) {
    OptionalLong found = readFrom(dwarf, struct);
    for (int i = 0; found.isEmpty() && i < movedTo.size(); i++) {
      found = readFrom(dwarf, movedTo.get(i));
    }
    return found;
  }

  private OptionalLong readFrom(GoDwarf dwarf, String name) {
    return member.equals(SIZE) ? dwarf.structSize(name) : dwarf.memberOffset(name, member);
  }

  /**
   * Whether the struct belongs to a module outside Go's standard library (grpc, golang.org/x/net,
   * genproto; their import paths begin with a domain): its layout follows that module's version,
   * not Go's, so grpc's offset table has it and Go's does not.
   */
  public boolean ofModule() {
    return struct.substring(0, Math.max(0, struct.indexOf('/'))).contains(".");
  }

  /** Whether the struct is the OpenTelemetry Go SDK's or its API's: their layout follows their own versions. */
  public boolean ofOtel() {
    return struct.startsWith("go.opentelemetry.io/");
  }

  /** {@code runtime.g.goid}: how the offset table names the row. */
  public String qualifiedName() {
    return struct + "." + member;
  }
}
