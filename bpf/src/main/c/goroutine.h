/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * What the writer keeps per goroutine, shared with the sampler: with
 * --ctx-source sample, it looks up the goroutine running at sample time here
 * (user space hands it the tracer's map, bpf_map__reuse_fd).
 */
#ifndef BRAID_GOROUTINE_H
#define BRAID_GOROUTINE_H


struct goroutine_key {
	__u32 tgid;
	__u32 _pad;
	__u64 goid;
};

/* A span open on a goroutine: server or client. */
struct open_span {
	struct trace_context ctx;
	struct trace_context prev; /* the goroutine's context before the span */
	__u64 req;                 /* *http.Request, a gRPC stream or method; 0: no span open */
	__u8 has_prev;
	__u8 trace_flags;
	__u8 rpc_system;           /* RPC_SYSTEM_* of tracer.h: whose probes end it */
	__u8 prev_app;             /* prev is an application's span (the OpenTelemetry Go SDK's) */
	__u8 _pad[4];
};

/*
 * Everything braid keeps of one goroutine, in one map entry: one lookup per
 * probe, changed in place (only the thread running the goroutine touches it).
 */
struct goroutine {
	struct trace_context ctx; /* what a thread running it shows, when has_ctx */
	__u8 has_ctx;
	__u8 pending_send; /* --propagate: it left its thread before sending a request */
	__u8 ctx_app;      /* ctx is an application's span, which may end on another goroutine */
	__u8 _pad;
	__u32 tid;         /* the thread that last ran it (an application span ended elsewhere finds it there) */
	struct open_span server;
	struct open_span client;
};

/* By (tgid, goid): goroutines with a context or an open span. */
#define GOROUTINES_MAP                                  \
	struct {                                        \
		__uint(type, BPF_MAP_TYPE_HASH);        \
		__uint(max_entries, 65536);             \
		__type(key, struct goroutine_key);      \
		__type(value, struct goroutine);        \
	} goroutines SEC(".maps")

#endif /* BRAID_GOROUTINE_H */
