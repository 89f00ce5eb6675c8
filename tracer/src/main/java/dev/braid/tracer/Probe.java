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
  /** net/http.(*response).finishRequest: the handler returned. */
  HTTP_FINISH(Site.ENTRY, "net/http.(*response).finishRequest", null, "http_server_end", Feature.HTTP_SERVER),
  /** net/http.(*Transport).roundTrip: a client request starts. */
  HTTP_CLIENT_START(Site.ENTRY, "net/http.(*Transport).roundTrip", null, "http_client_start", Feature.HTTP_CLIENT),
  /** Right after (*Client).do's CALL of (*Client).send returns: the response (or error) is there. */
  HTTP_CLIENT_END(Site.AFTER_CALL, "net/http.(*Client).do", "net/http.(*Client).send", "http_client_end", Feature.HTTP_CLIENT),
  /** net/http.(*Request).write: the connection's writer goroutine is about to send a request. */
  HTTP_REQUEST_WRITE(Site.ENTRY, "net/http.(*Request).write", null, "http_request_write", Feature.PROPAGATE);

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
    /** net/http client spans. */
    HTTP_CLIENT,
    /** traceparent in outgoing requests (--propagate). */
    PROPAGATE
  }

  final Site site;
  /** The function probed: the first of {@link #functions} the binary has. */
  final String function;
  final List<String> functions;
  final String callee;
  final String program;
  final Feature feature;

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
