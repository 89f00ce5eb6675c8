package dev.braid.tracer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.braid.bpf.TraceContext;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** The tracer's ring buffer records, written and read as tracer.bpf.c lays them out (for benchmarks). */
public final class SpanEvents {
  private final StringInterner strings = new StringInterner();

  public SpanEvent decode(MemorySegment record) {
    return SpanEventDecoder.decode(record, strings);
  }

  /** A server span's start, as http_server_start writes it. */
  public static MemorySegment start(Arena arena, int pid, int tid, long goid, long timeNs, TraceContext ctx, String method, String path) {
    var layout = SpanEventDecoder.SPAN_START;
    MemorySegment r = arena.allocate(layout);
    header(r, SpanEventDecoder.EVENT_SPAN_START, pid, tid, goid, timeNs);
    ids(r, layout.byteOffset(groupElement("trace_id")), ctx);
    r.set(JAVA_BYTE, layout.byteOffset(groupElement("trace_flags")), (byte) 1);
    r.set(JAVA_BYTE, layout.byteOffset(groupElement("span_kind")), (byte) SpanEventDecoder.SPAN_KIND_SERVER);
    text(r, layout.byteOffset(groupElement("method")), method);
    r.set(JAVA_BYTE, layout.byteOffset(groupElement("method_len")), (byte) method.length());
    text(r, layout.byteOffset(groupElement("path")), path);
    r.set(JAVA_INT, layout.byteOffset(groupElement("path_len")), path.length());
    return r;
  }

  /** Its end, as http_server_end writes it. */
  public static MemorySegment end(Arena arena, int pid, int tid, long goid, long timeNs, TraceContext ctx, String route) {
    var layout = SpanEventDecoder.SPAN_END;
    MemorySegment r = arena.allocate(layout);
    header(r, SpanEventDecoder.EVENT_SPAN_END, pid, tid, goid, timeNs);
    ids(r, layout.byteOffset(groupElement("trace_id")), ctx);
    r.set(JAVA_LONG, layout.byteOffset(groupElement("status")), 200);
    text(r, layout.byteOffset(groupElement("route")), route);
    r.set(JAVA_INT, layout.byteOffset(groupElement("route_len")), route.length());
    return r;
  }

  private static void header(MemorySegment r, int kind, int pid, int tid, long goid, long timeNs) {
    r.set(JAVA_INT, 0, kind);
    r.set(JAVA_INT, 4, pid);
    r.set(JAVA_INT, 8, tid);
    r.set(JAVA_INT, 12, 1);
    r.set(JAVA_LONG, 16, goid);
    r.set(JAVA_LONG, 24, timeNs);
  }

  private static void ids(MemorySegment r, long offset, TraceContext ctx) {
    MemorySegment.copy(MemorySegment.ofArray(HexFormat.of().parseHex(ctx.traceId() + ctx.spanId())), 0, r, offset, TraceContext.SIZE);
  }

  private static void text(MemorySegment r, long offset, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    MemorySegment.copy(MemorySegment.ofArray(b), 0, r, offset, b.length);
  }
}
