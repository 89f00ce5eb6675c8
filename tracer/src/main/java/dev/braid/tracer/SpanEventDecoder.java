package dev.braid.tracer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import dev.braid.bpf.MalformedRecordException;
import dev.braid.bpf.TraceContext;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.HexFormat;
import java.util.Optional;

/** Decodes the ring buffer records of tracer.bpf.c (layouts of bpf/src/main/c/tracer.h). */
final class SpanEventDecoder {
  static final int EVENT_SPAN_START = 1;
  static final int EVENT_SPAN_END = 2;
  static final int EVENT_HANDOFF = 3;
  static final int EVENT_APP_SERVER_SPAN = 4;
  static final int EVENT_API_SPAN = 5;
  static final int EVENT_AUTO_SDK_SWITCH = 6;
  /** Laid out as APP_SERVER_SPAN. */
  static final int EVENT_APP_ROOT_SPAN = 7;
  // Why a span ended (enum braid_end_reason; LayoutTest checks these and the others against the object's BTF).
  static final int END_FINISHED = 0;
  static final int END_GOROUTINE_EXIT = 1;
  static final int END_PARENT_ENDED = 2;
  static final int END_SUPERSEDED = 3;
  static final int END_CLIENT_ERROR = 4;
  // How a channel value went from sender to receiver (enum braid_handoff): the Phase of each.
  static final int HANDOFF_DIRECT = 0;
  static final int HANDOFF_QUEUED = 1;
  static final int HANDOFF_DEQUEUED = 2;
  /** API_SPAN_JSON_MAX of tracer.h. */
  static final int API_SPAN_JSON_MAX = 16384;
  static final int SPAN_KIND_SERVER = 2;
  static final int SPAN_KIND_CLIENT = 3;
  static final int METHOD_MAX = 16;
  static final int PATH_MAX_LEN = 128;
  static final int HOST_MAX = 64;
  static final int ROUTE_MAX = 96;

  static final StructLayout HEADER =
      structLayout(
              JAVA_INT.withName("kind"),
              JAVA_INT.withName("pid"),
              JAVA_INT.withName("tid"),
              JAVA_INT.withName("binary_id"),
              JAVA_LONG.withName("goid"),
              JAVA_LONG.withName("time_ns"))
          .withName("event_header");

  static final StructLayout SPAN_START =
      structLayout(
              HEADER.withName("header"),
              sequenceLayout(16, JAVA_BYTE).withName("trace_id"),
              sequenceLayout(8, JAVA_BYTE).withName("span_id"),
              sequenceLayout(8, JAVA_BYTE).withName("parent_span_id"),
              JAVA_BYTE.withName("trace_flags"),
              JAVA_BYTE.withName("span_kind"),
              JAVA_BYTE.withName("method_len"),
              JAVA_BYTE.withName("host_len"),
              JAVA_INT.withName("path_len"),
              sequenceLayout(METHOD_MAX, JAVA_BYTE).withName("method"),
              sequenceLayout(PATH_MAX_LEN, JAVA_BYTE).withName("path"),
              sequenceLayout(HOST_MAX, JAVA_BYTE).withName("host"),
              JAVA_BYTE.withName("proto_major"),
              JAVA_BYTE.withName("proto_minor"),
              JAVA_BYTE.withName("rpc_system"),
              paddingLayout(5))
          .withName("span_start_event");

  static final StructLayout SPAN_END =
      structLayout(
              HEADER.withName("header"),
              sequenceLayout(16, JAVA_BYTE).withName("trace_id"),
              sequenceLayout(8, JAVA_BYTE).withName("span_id"),
              JAVA_LONG.withName("status"),
              JAVA_INT.withName("reason"),
              JAVA_INT.withName("route_len"),
              sequenceLayout(ROUTE_MAX, JAVA_BYTE).withName("route"),
              JAVA_BYTE.withName("proto_major"),
              JAVA_BYTE.withName("proto_minor"),
              JAVA_BYTE.withName("app_span_open"),
              paddingLayout(5))
          .withName("span_end_event");

  static final StructLayout HANDOFF =
      structLayout(
              HEADER.withName("header"),
              JAVA_LONG.withName("chan"),
              JAVA_LONG.withName("capacity"),
              JAVA_LONG.withName("sender_goid"),
              JAVA_LONG.withName("receiver_goid"),
              sequenceLayout(TraceContext.SIZE, JAVA_BYTE).withName("sender"),
              sequenceLayout(TraceContext.SIZE, JAVA_BYTE).withName("receiver"),
              JAVA_INT.withName("phase"),
              JAVA_BYTE.withName("sender_select"),
              JAVA_BYTE.withName("receiver_select"),
              paddingLayout(2))
          .withName("handoff_event");

  static final StructLayout APP_SERVER_SPAN =
      structLayout(
              HEADER.withName("header"),
              sequenceLayout(TraceContext.SIZE, JAVA_BYTE).withName("span"),
              sequenceLayout(TraceContext.SIZE, JAVA_BYTE).withName("covered"))
          .withName("app_server_span_event");

  /** Variable length: the record ends after json_len bytes of json. */
  static final StructLayout API_SPAN =
      structLayout(
              HEADER.withName("header"),
              sequenceLayout(TraceContext.SIZE, JAVA_BYTE).withName("span"),
              sequenceLayout(8, JAVA_BYTE).withName("parent_span_id"),
              JAVA_LONG.withName("start_ns"),
              JAVA_INT.withName("json_size"),
              JAVA_INT.withName("json_len"),
              sequenceLayout(API_SPAN_JSON_MAX, JAVA_BYTE).withName("json"))
          .withName("api_span_event");

  static final StructLayout AUTO_SDK_SWITCH = structLayout(HEADER.withName("header"), JAVA_LONG.withName("flag")).withName("auto_sdk_switch_event");
  private static final long AUTO_SDK_FLAG = AUTO_SDK_SWITCH.byteOffset(groupElement("flag"));
  private static final long API_SPAN_CONTEXT = API_SPAN.byteOffset(groupElement("span"));
  private static final long API_PARENT = API_SPAN.byteOffset(groupElement("parent_span_id"));
  private static final long API_START = API_SPAN.byteOffset(groupElement("start_ns"));
  private static final long API_JSON_SIZE = API_SPAN.byteOffset(groupElement("json_size"));
  private static final long API_JSON_LEN = API_SPAN.byteOffset(groupElement("json_len"));
  private static final long API_JSON = API_SPAN.byteOffset(groupElement("json"));
  private static final long APP_SPAN = APP_SERVER_SPAN.byteOffset(groupElement("span"));
  private static final long APP_COVERED = APP_SERVER_SPAN.byteOffset(groupElement("covered"));
  private static final long HANDOFF_CHAN = HANDOFF.byteOffset(groupElement("chan"));
  private static final long HANDOFF_CAPACITY = HANDOFF.byteOffset(groupElement("capacity"));
  private static final long SENDER_GOID = HANDOFF.byteOffset(groupElement("sender_goid"));
  private static final long RECEIVER_GOID = HANDOFF.byteOffset(groupElement("receiver_goid"));
  private static final long SENDER = HANDOFF.byteOffset(groupElement("sender"));
  private static final long RECEIVER = HANDOFF.byteOffset(groupElement("receiver"));
  private static final long PHASE = HANDOFF.byteOffset(groupElement("phase"));
  private static final long SENDER_SELECT = HANDOFF.byteOffset(groupElement("sender_select"));
  private static final long RECEIVER_SELECT = HANDOFF.byteOffset(groupElement("receiver_select"));
  private static final SpanEvent.Phase[] PHASES = phases();

  private static final long TRACE_ID = SPAN_START.byteOffset(groupElement("trace_id"));
  private static final long PARENT = SPAN_START.byteOffset(groupElement("parent_span_id"));
  private static final long FLAGS = SPAN_START.byteOffset(groupElement("trace_flags"));
  private static final long KIND = SPAN_START.byteOffset(groupElement("span_kind"));
  private static final long METHOD_LEN = SPAN_START.byteOffset(groupElement("method_len"));
  private static final long PATH_LEN = SPAN_START.byteOffset(groupElement("path_len"));
  private static final long METHOD = SPAN_START.byteOffset(groupElement("method"));
  private static final long HOST_LEN = SPAN_START.byteOffset(groupElement("host_len"));
  private static final long HOST = SPAN_START.byteOffset(groupElement("host"));
  private static final long PATH = SPAN_START.byteOffset(groupElement("path"));
  private static final long END_TRACE_ID = SPAN_END.byteOffset(groupElement("trace_id"));
  private static final long STATUS = SPAN_END.byteOffset(groupElement("status"));
  private static final long REASON = SPAN_END.byteOffset(groupElement("reason"));
  private static final long ROUTE_LEN = SPAN_END.byteOffset(groupElement("route_len"));
  private static final long ROUTE = SPAN_END.byteOffset(groupElement("route"));
  private static final long START_PROTO = SPAN_START.byteOffset(groupElement("proto_major"));
  private static final long RPC_SYSTEM = SPAN_START.byteOffset(groupElement("rpc_system"));
  static final int RPC_SYSTEM_GRPC = 1;
  private static final long END_PROTO = SPAN_END.byteOffset(groupElement("proto_major"));
  private static final long APP_SPAN_OPEN = SPAN_END.byteOffset(groupElement("app_span_open"));
  /** "1.0", "1.1", "2", as network.protocol.version spells them; index 10 * major + minor. */
  private static final String[] VERSIONS = new String[100];

  static {
    for (int major = 1; major < 10; major++) {
      for (int minor = 0; minor < 10; minor++) {
        VERSIONS[10 * major + minor] = major >= 2 && minor == 0 ? Integer.toString(major) : major + "." + minor;
      }
    }
  }
  private static final HexFormat HEX = HexFormat.of();

  private SpanEventDecoder() {}

  /** Decodes one record; throws {@link MalformedRecordException} for an unknown, short or inconsistent one. */
  static SpanEvent decode(MemorySegment r, StringInterner strings) {
    if (r.byteSize() < HEADER.byteSize()) {
      throw new MalformedRecordException("tracer event of " + r.byteSize() + " bytes is shorter than its header");
    }
    int kind = r.get(JAVA_INT, 0);
    int pid = r.get(JAVA_INT, 4);
    int tid = r.get(JAVA_INT, 8);
    int binaryId = r.get(JAVA_INT, 12);
    long goid = r.get(JAVA_LONG, 16);
    long time = r.get(JAVA_LONG, 24);
    return switch (kind) {
      case EVENT_SPAN_START -> {
        requireSize(r, SPAN_START);
        long parent = Long.reverseBytes(r.get(JAVA_LONG_UNALIGNED, PARENT)); // W3C byte order
        int pathLen = r.get(JAVA_INT, PATH_LEN);
        yield new SpanEvent.Started(
            pid,
            tid,
            goid,
            binaryId,
            time,
            TraceContext.read(r, TRACE_ID),
            parent == 0 ? "" : HEX.toHexDigits(parent),
            Byte.toUnsignedInt(r.get(JAVA_BYTE, FLAGS)),
            kind(Byte.toUnsignedInt(r.get(JAVA_BYTE, KIND))),
            text(strings, r, METHOD, Byte.toUnsignedInt(r.get(JAVA_BYTE, METHOD_LEN)), METHOD_MAX),
            text(strings, r, PATH, pathLen, PATH_MAX_LEN),
            Integer.toUnsignedLong(pathLen) > PATH_MAX_LEN,
            text(strings, r, HOST, Byte.toUnsignedInt(r.get(JAVA_BYTE, HOST_LEN)), HOST_MAX),
            version(r, START_PROTO),
            r.get(JAVA_BYTE, RPC_SYSTEM) == RPC_SYSTEM_GRPC ? "grpc" : "");
      }
      case EVENT_SPAN_END -> {
        requireSize(r, SPAN_END);
        int reason = r.get(JAVA_INT, REASON);
        yield new SpanEvent.Ended(
            pid,
            tid,
            goid,
            time,
            TraceContext.read(r, END_TRACE_ID),
            r.get(JAVA_LONG, STATUS),
            reason(reason),
            text(strings, r, ROUTE, r.get(JAVA_INT, ROUTE_LEN), ROUTE_MAX),
            version(r, END_PROTO),
            r.get(JAVA_BYTE, APP_SPAN_OPEN) != 0);
      }
      case EVENT_HANDOFF -> {
        requireSize(r, HANDOFF);
        int phase = r.get(JAVA_INT, PHASE);
        if (phase < 0 || phase >= PHASES.length) {
          throw new MalformedRecordException("unknown hand-off phase " + phase);
        }
        yield new SpanEvent.HandOff(
            pid,
            tid,
            time,
            r.get(JAVA_LONG, HANDOFF_CHAN),
            r.get(JAVA_LONG, HANDOFF_CAPACITY),
            PHASES[phase],
            party(r, SENDER_GOID, SENDER, SENDER_SELECT),
            party(r, RECEIVER_GOID, RECEIVER, RECEIVER_SELECT));
      }
      case EVENT_APP_SERVER_SPAN -> {
        requireSize(r, APP_SERVER_SPAN);
        yield new SpanEvent.ApplicationServerSpan(pid, tid, goid, time, TraceContext.read(r, APP_SPAN), TraceContext.read(r, APP_COVERED));
      }
      case EVENT_APP_ROOT_SPAN -> {
        requireSize(r, APP_SERVER_SPAN);
        yield new SpanEvent.ApplicationRootSpan(pid, tid, goid, time, TraceContext.read(r, APP_SPAN), TraceContext.read(r, APP_COVERED));
      }
      case EVENT_API_SPAN -> {
        if (r.byteSize() < API_JSON) {
          throw new MalformedRecordException("api_span_event of " + r.byteSize() + " bytes, want at least " + API_JSON);
        }
        int length = r.get(JAVA_INT, API_JSON_LEN);
        if (length < 0 || length > API_SPAN_JSON_MAX || r.byteSize() < API_JSON + length) {
          throw new MalformedRecordException("api_span_event of " + r.byteSize() + " bytes says it holds " + length + " bytes of JSON");
        }
        TraceContext span = TraceContext.read(r, API_SPAN_CONTEXT);
        if (!span.isValid()) {
          throw new MalformedRecordException("api_span_event without the span's context");
        }
        long parent = r.get(JAVA_LONG_UNALIGNED, API_PARENT);
        yield new SpanEvent.ApiSpan(
            pid,
            tid,
            goid,
            time,
            span,
            parent == 0 ? "" : HEX.formatHex(r.asSlice(API_PARENT, 8).toArray(JAVA_BYTE)),
            r.get(JAVA_LONG, API_START),
            Integer.toUnsignedLong(r.get(JAVA_INT, API_JSON_SIZE)),
            r.asSlice(API_JSON, length).toArray(JAVA_BYTE));
      }
      case EVENT_AUTO_SDK_SWITCH -> {
        requireSize(r, AUTO_SDK_SWITCH);
        yield new SpanEvent.AutoSdkSwitch(pid, tid, binaryId, time, r.get(JAVA_LONG, AUTO_SDK_FLAG));
      }
      default -> throw new MalformedRecordException("unknown tracer event kind " + kind);
    };
  }

  /** The HTTP version in the two bytes at offset (major, minor), or empty when the probe did not know it. */
  private static String version(MemorySegment r, long offset) {
    int major = Byte.toUnsignedInt(r.get(JAVA_BYTE, offset));
    int minor = Byte.toUnsignedInt(r.get(JAVA_BYTE, offset + 1));
    return major >= 1 && major < 10 && minor < 10 ? VERSIONS[10 * major + minor] : "";
  }

  private static SpanEvent.Party party(MemorySegment r, long goid, long context, long select) {
    TraceContext ctx = TraceContext.read(r, context);
    return new SpanEvent.Party(r.get(JAVA_LONG, goid), ctx.isValid() ? Optional.of(ctx) : Optional.empty(), r.get(JAVA_BYTE, select) != 0);
  }

  private static SpanEvent.SpanKind kind(int kind) {
    return switch (kind) {
      case SPAN_KIND_SERVER -> SpanEvent.SpanKind.SERVER;
      case SPAN_KIND_CLIENT -> SpanEvent.SpanKind.CLIENT;
      default -> SpanEvent.SpanKind.INTERNAL;
    };
  }

  private static SpanEvent.Phase[] phases() {
    SpanEvent.Phase[] phases = new SpanEvent.Phase[3];
    phases[HANDOFF_DIRECT] = SpanEvent.Phase.DIRECT;
    phases[HANDOFF_QUEUED] = SpanEvent.Phase.QUEUED;
    phases[HANDOFF_DEQUEUED] = SpanEvent.Phase.DEQUEUED;
    return phases;
  }

  /** END_* of tracer.h. */
  private static SpanEvent.EndReason reason(int reason) {
    return switch (reason) {
      case END_GOROUTINE_EXIT -> SpanEvent.EndReason.GOROUTINE_EXITED;
      case END_PARENT_ENDED -> SpanEvent.EndReason.PARENT_ENDED;
      case END_SUPERSEDED -> SpanEvent.EndReason.SUPERSEDED;
      case END_CLIENT_ERROR -> SpanEvent.EndReason.CLIENT_ERROR;
      default -> SpanEvent.EndReason.FINISHED;
    };
  }

  private static void requireSize(MemorySegment r, StructLayout layout) {
    if (r.byteSize() < layout.byteSize()) {
      throw new MalformedRecordException(layout.name().orElseThrow() + " of " + r.byteSize() + " bytes, want " + layout.byteSize());
    }
  }

  private static String text(StringInterner strings, MemorySegment r, long offset, long fullLength, int max) {
    return strings.of(r, offset, (int) Math.min(Math.max(fullLength, 0), max));
  }
}
