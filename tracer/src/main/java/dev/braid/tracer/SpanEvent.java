package dev.braid.tracer;

import dev.braid.bpf.TraceContext;
import java.util.Optional;

/** What the tracer's probes report, decoded. Times are CLOCK_MONOTONIC nanoseconds. */
public sealed interface SpanEvent permits SpanEvent.Started, SpanEvent.Ended, SpanEvent.HandOff, SpanEvent.ApplicationServerSpan, SpanEvent.ApplicationRootSpan, SpanEvent.ApiSpan, SpanEvent.AutoSdkSwitch {
  int pid();

  long monotonicNanos();

  /**
   * A span began on a goroutine.
   *
   * @param parentSpanId the parent's span id: from {@code traceparent} for a server span, the
   *     goroutine's span for a client span; empty for a root
   * @param path the request path; {@code pathTruncated} when it was longer than the probe copies
   * @param host the request's Host (server) or the host it goes to (client), or empty
   * @param protocolVersion the request's HTTP version ({@code 1.1}, {@code 2}) for a server span;
   *     empty when unknown, and for a client span (its response says)
   * @param rpcSystem {@code grpc} for an RPC (then path is its full method, {@code
   *     /package.Service/Method}, and the end's status its status code), else empty
   */
  record Started(
      int pid,
      int tid,
      long goid,
      int binaryId,
      long monotonicNanos,
      TraceContext context,
      String parentSpanId,
      int traceFlags,
      SpanKind kind,
      String method,
      String path,
      boolean pathTruncated,
      String host,
      String protocolVersion,
      String rpcSystem)
      implements SpanEvent {}

  /**
   * A span ended.
   *
   * @param statusCode the HTTP status (the handler's, or the response's), 0 when there is none; an
   *     RPC's status code (0 is OK)
   * @param route the pattern that routed the request (Go 1.23+ ServeMux), or empty
   * @param protocolVersion the response's HTTP version for a client span, else empty
   * @param applicationSpanOpen an application span that started inside this one was still open
   *     (otelgrpc's server span ends after the RPC's status went out)
   */
  record Ended(
      int pid,
      int tid,
      long goid,
      long monotonicNanos,
      TraceContext context,
      long statusCode,
      EndReason reason,
      String route,
      String protocolVersion,
      boolean applicationSpanOpen)
      implements SpanEvent {}

  /**
   * A value went over a Go channel from one goroutine to another, with the lock held: see {@link
   * Phase} for which of these the probes report.
   *
   * @param tid the thread that ran the probe
   * @param channel the {@code *hchan}, for attributes and diagnostics
   * @param capacity the channel's buffer size; 0 when unbuffered
   */
  record HandOff(int pid, int tid, long monotonicNanos, long channel, long capacity, Phase phase, Party sender, Party receiver)
      implements SpanEvent {}

  /**
   * One side of a hand-off.
   *
   * @param context its goroutine's span (its own, or inherited); empty when it had none
   * @param select whether it used a select statement
   */
  /**
   * The application made a SERVER span of its own (otelhttp, otelgrpc) inside braid's span {@code
   * covered}, and ended it: the request's span is the application's, by its IDs.
   */
  record ApplicationServerSpan(int pid, int tid, long goid, long monotonicNanos, TraceContext span, TraceContext covered)
      implements SpanEvent {}

  record Party(long goid, Optional<TraceContext> context, boolean select) {}

  /**
   * The application started a root span of its own (a manual span with no parent: a trace of its
   * own) inside braid's span {@code covered}: braid's span links to it.
   */
  record ApplicationRootSpan(int pid, int tid, long goid, long monotonicNanos, TraceContext span, TraceContext covered) implements SpanEvent {}

  /**
   * --auto-sdk: in process {@code pid}, the OpenTelemetry API's global tracer made a no-op span: its
   * switch to go.opentelemetry.io/auto/sdk, the bool at {@code flagAddress}, is off. The tracer
   * turns it on; listeners never see this event.
   *
   * @param binaryId the probed binary's id (the pid must still run it)
   */
  record AutoSdkSwitch(int pid, int tid, int binaryId, long monotonicNanos, long flagAddress) implements SpanEvent {}

  /**
   * --auto-sdk: a span that a program using the OpenTelemetry API alone ended, which braid made
   * (go.opentelemetry.io/auto/sdk), serialized by the program as OTLP/JSON ({@code TracesData}).
   *
   * @param span its context, which braid wrote at its start
   * @param parentSpanId the span it started inside (hex), or empty for a root span
   * @param startMonotonicNanos when braid saw it start; 0 when braid did not
   * @param jsonSize the JSON's whole size; more than {@code json.length} when it was cut
   * @param json the JSON as far as one event holds it
   */
  record ApiSpan(
      int pid, int tid, long goid, long monotonicNanos, TraceContext span, String parentSpanId, long startMonotonicNanos, long jsonSize, byte[] json)
      implements SpanEvent {
    /** Whether the JSON was too large for one event, and is cut. */
    public boolean cut() {
      return jsonSize > json.length;
    }
  }

  /** HANDOFF_* of tracer.h. */
  enum Phase {
    /** One side waited; both have a span. */
    DIRECT,
    /** A spanned sender's value entered a buffer slot; the receiver is not known yet. */
    QUEUED,
    /** A value that a spanned sender queued reached its receiver (which may have no span). */
    DEQUEUED
  }

  /** Kinds as OpenTelemetry defines them; the probes make only server spans so far. */
  enum SpanKind {
    INTERNAL,
    SERVER,
    CLIENT
  }

  enum EndReason {
    /** The request finished. */
    FINISHED,
    /** The goroutine exited with the span open (a panic, a hijacked connection). */
    GOROUTINE_EXITED,
    /** The process exited with the span open. */
    PROCESS_EXITED,
    /** braid stopped with the span open; its end is when braid stopped. */
    FINISHED_BY_BRAID,
    /**
     * Its end event was lost (the span ring buffer was full): it ended before its goroutine
     * started another server span, which is the end it is given.
     */
    END_LOST,
    /** A client span was still open when its server span ended (a Transport used directly). */
    PARENT_ENDED,
    /** A client span was still open when its goroutine began another. */
    SUPERSEDED,
    /** The client call returned an error instead of a response. */
    CLIENT_ERROR
  }
}
