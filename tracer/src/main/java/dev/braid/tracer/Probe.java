package dev.braid.tracer;

/** The functions the tracer probes, and the program of tracer.bpf.c that runs at each. */
enum Probe {
  /** runtime.execute(gp, inheritTime): gp switches in on this thread. */
  EXECUTE("runtime.execute", "go_execute", Feature.CONTEXT),
  /** runtime.schedule(): the thread left a goroutine and runs scheduler code. */
  SCHEDULE("runtime.schedule", "go_schedule", Feature.CONTEXT),
  /** runtime.goexit1(): a goroutine is done. */
  GOEXIT("runtime.goexit1", "go_goexit", Feature.CONTEXT),
  /** net/http.serverHandler.ServeHTTP: a request's handler starts. */
  HTTP_SERVE("net/http.serverHandler.ServeHTTP", "http_server_start", Feature.HTTP_SERVER),
  /** net/http.(*response).finishRequest: the handler returned. */
  HTTP_FINISH("net/http.(*response).finishRequest", "http_server_end", Feature.HTTP_SERVER);

  /** What a group of probes gives; a binary lacking one keeps the others. */
  enum Feature {
    /** traces_ctx_v1 follows goroutines across threads. */
    CONTEXT,
    /** net/http server spans. */
    HTTP_SERVER
  }

  final String function;
  final String program;
  final Feature feature;

  Probe(String function, String program, Feature feature) {
    this.function = function;
    this.program = program;
    this.feature = feature;
  }
}
