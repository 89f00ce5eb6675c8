package dev.braid.tracer;

/** The places the tracer probes, and the program of tracer.bpf.c that runs at each. */
enum Probe {
  /** runtime.execute(gp, inheritTime): gp switches in on this thread. */
  EXECUTE(Site.ENTRY, "runtime.execute", null, "go_execute", Feature.CONTEXT),
  /** runtime.schedule(): the thread left a goroutine and runs scheduler code. */
  SCHEDULE(Site.ENTRY, "runtime.schedule", null, "go_schedule", Feature.CONTEXT),
  /**
   * runtime.stopm(): the thread goes idle. A goroutine back from a syscall that finds no P is
   * queued and its thread parks here before it reaches schedule; without this probe the thread
   * would wake up still carrying that goroutine's span.
   */
  STOP_THREAD(Site.ENTRY, "runtime.stopm", null, "go_schedule", Feature.CONTEXT),
  /** runtime.goexit1(): a goroutine exits (--ctx-source sample, where no switch probe finds it). */
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
  final String function;
  final String callee;
  final String program;
  final Feature feature;

  Probe(Site site, String function, String callee, String program, Feature feature) {
    this.site = site;
    this.function = function;
    this.callee = callee;
    this.program = program;
    this.feature = feature;
  }
}
