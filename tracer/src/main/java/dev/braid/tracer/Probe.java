package dev.braid.tracer;

import java.util.List;

/** The places the tracer probes, and the program of tracer.bpf.c that runs at each. */
enum Probe {
  /** runtime.execute(gp, inheritTime): gp switches in on this thread. */
  EXECUTE(Site.ENTRY, "runtime.execute", null, "go_execute", Feature.CONTEXT),
  /*
   * The switch-outs: the scheduler functions that take the running goroutine off its thread, on
   * g0, before they make it runnable (or let it be readied) elsewhere. The thread's entry goes
   * here, not later in schedule(): a thread the kernel preempts in between would show a span
   * that has moved on to another thread, or ended.
   */
  /** runtime.park_m(gp): gp parks (channels, locks, sleeps, network waits). */
  PARK(Site.ENTRY, "runtime.park_m", null, "go_switch_out", Feature.CONTEXT),
  /** runtime.goschedImpl(gp, preempted): gp yields, or is preempted (Gosched, sysmon, stack checks). */
  YIELD(Site.ENTRY, "runtime.goschedImpl", null, "go_switch_out", Feature.CONTEXT),
  /** runtime.preemptPark(gp): gp is preempted for a GC stack scan. */
  PREEMPT_PARK(Site.ENTRY, "runtime.preemptPark", null, "go_switch_out", Feature.CONTEXT),
  /** runtime.goyield_m(gp): gp yields to the goroutine it just readied. */
  GO_YIELD(Site.ENTRY, "runtime.goyield_m", null, "go_switch_out", Feature.CONTEXT),
  /** runtime.goexit0(gp): gp has exited; what it left open ends. */
  EXITED(Site.ENTRY, "runtime.goexit0", null, "go_exited", Feature.CONTEXT),
  /**
   * runtime.exitsyscallNoP(gp) (runtime.exitsyscall0 before Go 1.26): gp is back from a syscall
   * and finds no P; it is queued and its thread parks.
   */
  SYSCALL_NO_P(Site.ENTRY, List.of("runtime.exitsyscallNoP", "runtime.exitsyscall0"), null, "go_switch_out", Feature.CONTEXT),
  /** runtime.goexit1(): a goroutine exits (--ctx-source sample, where no switch probe sees it). */
  GOROUTINE_EXIT(Site.ENTRY, "runtime.goexit1", null, "go_goexit", Feature.SAMPLE_CONTEXT),
  /** The CALL of runqput in newproc.func1: a go statement's goroutine is made. */
  SPAWN(Site.CALL, "runtime.newproc.func1", "runtime.runqput", "go_spawn", Feature.INHERIT),
  /** net/http.serverHandler.ServeHTTP: a request's handler starts. */
  HTTP_SERVE(Site.ENTRY, "net/http.serverHandler.ServeHTTP", null, "http_server_start", Feature.HTTP_SERVER),
  /** net/http.(*response).finishRequest: an HTTP/1.x handler returned. */
  HTTP_FINISH(Site.ENTRY, "net/http.(*response).finishRequest", null, "http_server_end", Feature.HTTP_SERVER),
  /**
   * (*http2responseWriter).handlerDone: an HTTP/2 handler returned (runHandler, in its own
   * goroutine); net/http's bundled HTTP/2 up to Go 1.26, net/http/internal/http2 since 1.27.
   */
  HTTP2_FINISH(
      Site.ENTRY,
      List.of("net/http.(*http2responseWriter).handlerDone", "net/http/internal/http2.(*responseWriter).handlerDone"),
      null,
      "http2_server_end",
      Feature.HTTP2_SERVER),
  /** The transport's reader goroutine reads a stream's HEADERS frame: its traceparent, if any, waits for the handler. */
  GRPC_SERVER_HEADERS(
      Site.ENTRY, "google.golang.org/grpc/internal/transport.(*http2Server).operateHeaders", null, "grpc_server_headers", Feature.GRPC_SERVER),
  /** google.golang.org/grpc.(*Server).handleStream: an RPC starts, on the goroutine that runs its handler. */
  GRPC_SERVER_START(Site.ENTRY, "google.golang.org/grpc.(*Server).handleStream", null, "grpc_server_start", Feature.GRPC_SERVER),
  /** The server writes an RPC's status (its handler returned): writeStatus since grpc 1.69, WriteStatus before. */
  GRPC_SERVER_END(
      Site.ENTRY,
      List.of("google.golang.org/grpc/internal/transport.(*http2Server).writeStatus", "google.golang.org/grpc/internal/transport.(*http2Server).WriteStatus"),
      null,
      "grpc_server_end",
      Feature.GRPC_SERVER),
  /** google.golang.org/grpc.(*ClientConn).Invoke: a unary call starts. */
  GRPC_CLIENT_INVOKE(Site.ENTRY, "google.golang.org/grpc.(*ClientConn).Invoke", null, "grpc_client_invoke", Feature.GRPC_CLIENT),
  /** google.golang.org/grpc.(*ClientConn).NewStream: a stream starts. */
  GRPC_CLIENT_STREAM(Site.ENTRY, "google.golang.org/grpc.(*ClientConn).NewStream", null, "grpc_client_stream", Feature.GRPC_CLIENT),
  /** google.golang.org/grpc.(*clientStream).finish: a call is over, with its error. */
  GRPC_CLIENT_END(Site.ENTRY, "google.golang.org/grpc.(*clientStream).finish", null, "grpc_client_end", Feature.GRPC_CLIENT),
  /** The OpenTelemetry Go SDK makes a recording span (the goroutine that starts it runs this). */
  SDK_SPAN_START(Site.ENTRY, "go.opentelemetry.io/otel/sdk/trace.(*tracer).newRecordingSpan", null, "sdk_span_start", Feature.SDK_SPANS),
  /** The OpenTelemetry Go SDK ends a recording span, on any goroutine. */
  SDK_SPAN_END(Site.ENTRY, "go.opentelemetry.io/otel/sdk/trace.(*recordingSpan).End", null, "sdk_span_end", Feature.SDK_SPANS),
  /**
   * --auto-sdk: the OpenTelemetry API's global tracer, with no SDK registered, makes a span: a
   * no-op until braid turns on its switch to go.opentelemetry.io/auto/sdk.
   */
  AUTO_SDK_SWITCH(Site.ENTRY, "go.opentelemetry.io/otel/internal/global.(*tracer).newSpan", null, "auto_sdk_switch", Feature.AUTO_SDK),
  /** --auto-sdk: go.opentelemetry.io/auto/sdk starts a span; braid gives it a context. */
  AUTO_SPAN_START(Site.ENTRY, "go.opentelemetry.io/auto/sdk.(*tracer).start", null, "auto_span_start", Feature.AUTO_SDK),
  /** --auto-sdk: a span of go.opentelemetry.io/auto/sdk ends (before it takes its end time). */
  AUTO_SPAN_END(Site.ENTRY, "go.opentelemetry.io/auto/sdk.(*span).End", null, "auto_span_end", Feature.AUTO_SDK),
  /** --auto-sdk: go.opentelemetry.io/auto/sdk ended a span and hands it over, as OTLP/JSON. */
  AUTO_SPAN_ENDED(Site.ENTRY, "go.opentelemetry.io/auto/sdk.(*span).ended", null, "auto_span_ended", Feature.AUTO_SDK),
  /** net/http.(*Transport).roundTrip: a client request starts. */
  HTTP_CLIENT_START(Site.ENTRY, "net/http.(*Transport).roundTrip", null, "http_client_start", Feature.HTTP_CLIENT),
  /** Right after (*Client).do's CALL of (*Client).send returns: the response (or error) is there. */
  HTTP_CLIENT_END(Site.AFTER_CALL, "net/http.(*Client).do", "net/http.(*Client).send", "http_client_end", Feature.HTTP_CLIENT),
  /** net/http.(*Request).write: the connection's writer goroutine is about to send a request. */
  HTTP_REQUEST_WRITE(Site.ENTRY, "net/http.(*Request).write", null, "http_request_write", Feature.PROPAGATE),
  /*
   * Channel links (channels.h). The CALL sites run with the channel locked: a direct hand-off to
   * or from a waiting goroutine, or a copy into or out of a buffer slot. chansend and chanrecv
   * cover every send and receive (chansend1, chanrecv1/2, selectnbsend/recv, reflect); selectgo
   * every select of two cases or more.
   */
  CHAN_SEND_DIRECT(Site.CALL, "runtime.chansend", "runtime.send", "chan_send_direct", Feature.CHANNEL_LINKS),
  CHAN_RECV_DIRECT(Site.CALL, "runtime.chanrecv", "runtime.recv", "chan_recv_direct", Feature.CHANNEL_LINKS),
  SELECT_SEND_DIRECT(Site.CALL, "runtime.selectgo", "runtime.send", "select_send_direct", Feature.CHANNEL_LINKS),
  SELECT_RECV_DIRECT(Site.CALL, "runtime.selectgo", "runtime.recv", "select_recv_direct", Feature.CHANNEL_LINKS),
  /** The copy into a slot; the channel is chansend's first argument. */
  CHAN_BUFFER_SEND(Site.CALL, "runtime.chansend", "runtime.typedmemmove", "chan_buffer_send", Feature.CHANNEL_LINKS),
  /** The clearing of a slot (or of the receiver's variable); the channel is chanrecv's first argument. */
  CHAN_BUFFER_RECV(Site.CALL, "runtime.chanrecv", "runtime.typedmemclr", "chan_buffer_recv", Feature.CHANNEL_LINKS),
  /** A send case's copy into a slot; the cases and their number of sends are selectgo's arguments 0 and 3. */
  SELECT_BUFFER_SEND(Site.CALL, "runtime.selectgo", "runtime.typedmemmove", "select_buffer_send", Feature.CHANNEL_LINKS),
  /** A receive case's clearing of a slot; the cases as above. */
  SELECT_BUFFER_RECV(Site.CALL, "runtime.selectgo", "runtime.typedmemclr", "select_buffer_recv", Feature.CHANNEL_LINKS);

  /** Where in the function the probe goes. */
  enum Site {
    /** The function's entry: the JBE of its stack check when it has one. */
    ENTRY,
    /** The CALL instruction(s) of {@code callee} in the function (a CALL is emulated, not single-stepped). */
    CALL,
    /** The instruction after each CALL of {@code callee}: its results are in the registers. */
    AFTER_CALL
  }

  /** What a group of probes gives; a binary lacking one keeps the others. */
  enum Feature {
    /** traces_ctx_v1 follows goroutines across threads (--ctx-source switch). */
    CONTEXT,
    /** The sampler finds the running goroutine itself (--ctx-source sample). */
    SAMPLE_CONTEXT,
    /** Goroutines inherit the span of the goroutine that started them. */
    INHERIT,
    /** net/http server spans. */
    HTTP_SERVER,
    /** The end of net/http's HTTP/2 server spans. */
    HTTP2_SERVER,
    /** google.golang.org/grpc server spans. */
    GRPC_SERVER,
    /** google.golang.org/grpc client spans. */
    GRPC_CLIENT,
    /** net/http client spans. */
    HTTP_CLIENT,
    /** traceparent in outgoing requests (--propagate). */
    PROPAGATE,
    /** Span links between goroutines that hand values over channels. */
    CHANNEL_LINKS,
    /** The application's own spans (the OpenTelemetry Go SDK's) become their goroutine's context. */
    SDK_SPANS,
    /** --auto-sdk: braid is the SDK of a program that uses the OpenTelemetry API alone (auto_sdk.bpf.c). */
    AUTO_SDK
  }

  final Site site;
  /** The function probed: the first of {@link #functions} the binary has. */
  final String function;
  final List<String> functions;
  final String callee;
  final String program;
  final Feature feature;

  /** The probed function's arguments that the program reads from their spill slots, by index. */
  List<Integer> spilledArguments() {
    return switch (this) {
      case CHAN_BUFFER_SEND, CHAN_BUFFER_RECV -> List.of(0);
      case SELECT_BUFFER_SEND, SELECT_BUFFER_RECV -> List.of(0, 3);
      default -> List.of();
    };
  }

  Probe(Site site, String function, String callee, String program, Feature feature) {
    this(site, List.of(function), callee, program, feature);
  }

  Probe(Site site, List<String> functions, String callee, String program, Feature feature) {
    this.site = site;
    this.function = functions.getFirst();
    this.functions = functions;
    this.callee = callee;
    this.program = program;
    this.feature = feature;
  }
}
