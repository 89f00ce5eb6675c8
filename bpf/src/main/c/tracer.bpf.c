// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * The writer: uprobes on Go binaries that create net/http server and client
 * spans, hand a goroutine's context to the goroutines it starts, pair
 * channel hand-offs between spanned goroutines (channels.h), and keep
 * traces_ctx_v1 equal, for every thread, to the context of the goroutine the
 * thread runs right now (spec/traces_ctx_v1.md, clauses 3.x).
 *
 * Goroutine state is keyed by (tgid, goid), never by the g pointer: the
 * runtime reuses gs. Entry probes sit on the prologue's JBE (emulated by the
 * kernel, ~10x cheaper than a single-stepped instruction) and may fire twice
 * when the stack grows and the function restarts, so every handler is
 * idempotent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "traces_ctx_v1.h"
#include "go_abi.h"
#include "tracer.h"
#include "tracer_maps.h"
#include "channels.h"
#include "grpc.h"
#include "app_span_life.h"

/*
 * Keeps tracer.h's enums in the object's BTF, where Java's copies of them are checked (tracer's
 * LayoutTest); read by nothing. In .rodata: a small read-only map.
 */
struct braid_constants {
	enum braid_feature feature;
	enum braid_map_layout map_layout;
	enum braid_event event;
	enum braid_end_reason end_reason;
	enum braid_handoff handoff;
	enum braid_stat stat;
};
const volatile struct braid_constants braid_constants_btf = {};

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- goroutine switches and starts --------------------------------------- */

/*
 * runtime.execute(gp *g, inheritTime bool): gp is about to run on this
 * thread. Its context becomes the thread's, or the thread has none.
 */
SEC("uprobe")
int go_execute(struct pt_regs *ctx)
{
	struct go_offsets *off = offsets_of(ctx);
	if (!off)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 gp = GO_PARAM1(ctx);
	struct goroutine_key key = {.tgid = pid_tgid >> 32};
	if (read_u64(&key.goid, gp + off->g_goid))
		return 0;
	struct thread_state *ts = thread_state(1);
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &key);
	if (g && g->pending_send) {
		pending_send_arrives(pid_tgid, &key, g, ts);
		if (goroutine_is_empty(g)) {
			bpf_map_delete_elem(&goroutines, &key);
			g = 0;
		}
	}
	if (g) {
		g->tid = (__u32)pid_tgid;
		/* an inherited application span may have ended meanwhile */
		if (settle_app_context(key.tgid, g) && goroutine_is_empty(g)) {
			bpf_map_delete_elem(&goroutines, &key);
			g = 0;
		}
	}
	if (ts) {
		ts->g = gp;
		ts->goid = key.goid;
	}
	/* Without the map (--ctx-source sample with --propagate), this probe only follows sends. */
	if (off->features & FEAT_CTX_MAP)
		show_on(ts, pid_tgid, g && g->has_ctx ? &g->ctx : 0);
	return 0;
}

/*
 * The scheduler takes the goroutine off this thread (park_m, goschedImpl,
 * preemptPark, goyield_m, goexit0, exitsyscallNoP; on g0).
 * Its context leaves the thread here, before the goroutine can be made
 * runnable elsewhere: runtime.schedule() comes later, and a thread that the
 * kernel preempts in between would show a span that has moved on, or ended.
 */
static __always_inline void switch_out(struct thread_state *ts, __u64 pid_tgid)
{
	if (ts->has_entry && hide(pid_tgid))
		ts->has_entry = 0;
	if (ts->pending_send) {
		ts->pending_send = 0;
		if (ts->g)
			pending_send_leaves(pid_tgid, ts);
		else
			bpf_map_delete_elem(&pending_sends, &pid_tgid);
	}
	ts->g = 0;
}

SEC("uprobe")
int go_switch_out(struct pt_regs *ctx)
{
	struct thread_state *ts = thread_state(0);
	if (ts)
		switch_out(ts, bpf_get_current_pid_tgid());
	return 0;
}

/*
 * runtime.goexit0(gp) (on g0, gp in RAX): gp has exited. It leaves the
 * thread, and what it left open ends (a panic, a hijacked connection).
 */
SEC("uprobe")
int go_exited(struct pt_regs *ctx)
{
	struct thread_state *ts = thread_state(0);
	if (ts)
		switch_out(ts, bpf_get_current_pid_tgid());
	struct running r;
	if (!goroutine_of(ctx, GO_PARAM1(ctx), &r))
		goroutine_exited(&r);
	return 0;
}

/*
 * The CALL of runtime.runqput in runtime.newproc.func1, right after
 * newproc1 made the goroutine of a go statement: newg is in RBX (runqput's
 * second argument), with its goid and parentGoid set. It inherits the
 * parent's context as it is now, at the go statement.
 */
SEC("uprobe")
int go_spawn(struct pt_regs *ctx)
{
	struct go_offsets *off = offsets_of(ctx);
	if (!off || !(off->features & FEAT_INHERIT))
		return 0;
	__u64 newg = GO_PARAM2(ctx);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct goroutine_key parent = {.tgid = tgid}, child = {.tgid = tgid};
	if (read_u64(&parent.goid, newg + off->g_parent_goid))
		return 0;
	struct goroutine *pg = bpf_map_lookup_elem(&goroutines, &parent);
	if (!pg || !pg->has_ctx)
		return 0;
	__u64 startpc = 0;
	if (off->no_inherit_pc[0] && !read_u64(&startpc, newg + off->g_startpc)) {
		/* uprobe handlers see the probed instruction's address in ip */
		__u64 bias = PT_REGS_IP(ctx) - off->spawn_site;
		for (int i = 0; i < NO_INHERIT_MAX; i++)
			if (off->no_inherit_pc[i] && off->no_inherit_pc[i] == startpc - bias)
				return 0;
	}
	if (read_u64(&child.goid, newg + off->g_goid))
		return 0;
	struct goroutine inherited = {.ctx = pg->ctx, .has_ctx = 1, .ctx_app = pg->ctx_app};
	if (bpf_map_update_elem(&goroutines, &child, &inherited, BPF_ANY))
		count(STAT_GOROUTINE_MAP_FULL);
	else
		count(STAT_INHERITED);
	return 0;
}

/*
 * runtime.goexit1(): a goroutine returns (or calls Goexit), on its own stack,
 * so g is in R14: what it left open ends, its state goes. Attached instead of
 * the switch probes (--ctx-source sample): one hit per goroutine.
 */
SEC("uprobe")
int go_goexit(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r))
		return 0;
	goroutine_exited(&r);
	return 0;
}

/*
 * A thread exits: its entry must not outlive it (the kernel reuses tids).
 * tp_btf needs no tracefs mount; it runs in the exiting task. A goroutine
 * locked to the thread may have exited with it.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(thread_exit, struct task_struct *task)
{
	hide(bpf_get_current_pid_tgid());
	return 0;
}

/* ---- net/http server --------------------------------------------------------- */

/*
 * Reserves the start event of a server span on r's goroutine: in parent's
 * trace, as its child, or (parent NULL) in a new trace. NULL when the ring
 * buffer is full (counted). The caller fills in what the request says.
 */
static __always_inline struct span_start_event *server_start_event(const struct running *r, const struct parsed_parent *parent)
{
	struct span_start_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_FULL);
		return 0;
	}
	fill_header(&e->header, EVENT_SPAN_START, r);
	e->span_kind = SPAN_KIND_SERVER;
	if (parent) {
		__builtin_memcpy(e->trace_id, parent->trace_id, 16);
		__builtin_memcpy(e->parent_span_id, parent->span_id, 8);
		e->trace_flags = parent->flags;
	} else {
		random_bytes(e->trace_id, 16);
		__builtin_memset(e->parent_span_id, 0, 8);
		e->trace_flags = 1; /* sampled: braid records every span it makes */
	}
	random_bytes(e->span_id, 8);
	return e;
}

/*
 * net/http.serverHandler.ServeHTTP(sh, rw ResponseWriter, req *Request):
 * sh is one word (RAX), rw an interface (RBX, RCX), req in RDI. The span
 * starts here, on the connection's goroutine, once the headers are read.
 */
SEC("uprobe")
int http_server_start(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_HTTP_SERVER))
		return 0;
	__u64 req = GO_PARAM4(ctx);
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r.key);
	if (g && g->server.req == req)
		return 0; /* the function restarted after its stack grew */
	struct request_head *head = read_request_head(req);
	if (!head || is_h2c_preface(r.off, head))
		return 0;

	struct parsed_parent parent;
	__u64 header = request_u64(head, r.off->request_header);
	struct span_start_event *e = server_start_event(&r, read_traceparent(r.off, header, &parent) == 0 ? &parent : 0);
	if (!e)
		return 0;
	read_request(r.off, head, e);
	open_span(&r, g, 0, e, req);
	return 0;
}

/*
 * Ends the running goroutine's server span: its handler returned. status is
 * what the handler wrote with WriteHeader; 0 when it wrote no header (net/http
 * answers 200 right after). The *http.Request that ServeHTTP was given routes
 * the span (http.route: its Pattern, which ServeMux set).
 */
static __always_inline void end_server_span(struct running *r, __s64 status)
{
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r->key);
	if (!g || !g->server.req)
		return;
	if (g->client.req)
		end_client_span(r, g, 0, END_PARENT_ENDED, (struct http_version){});
	close_span(r, g, &g->server, status, END_FINISHED, g->server.req, (struct http_version){});
	/*
	 * The goroutine's state stays, empty, until it exits (goexit0, or goexit1
	 * with --ctx-source sample): a keep-alive connection's goroutine starts
	 * its next request in place, not with an insert after a delete (~0.6 µs a
	 * request, measured).
	 */
}

/*
 * net/http.(*response).finishRequest(w): runs right after an HTTP/1.x
 * handler returns, on the same goroutine; an entry probe here replaces a
 * return probe on ServeHTTP (return probes crash Go programs).
 */
SEC("uprobe")
int http_server_end(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r))
		return 0;
	__s64 status = 0;
	bpf_probe_read_user(&status, sizeof(status), (void *)(GO_PARAM1(ctx) + r.off->server_response_status));
	end_server_span(&r, status);
	return 0;
}

/*
 * (*http2responseWriter).handlerDone(w) (net/http/internal/http2's
 * (*responseWriter).handlerDone since Go 1.27): an HTTP/2 handler returned
 * into runHandler, on its own goroutine; finishRequest is HTTP/1's and never
 * runs. w.rws holds the status. A handler that panics skips it: its goroutine
 * exits, and goexit0 ends the span.
 */
SEC("uprobe")
int http2_server_end(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_HTTP2_SERVER))
		return 0;
	__u64 rws = 0;
	__s64 status = 0;
	if (bpf_probe_read_user(&rws, sizeof(rws), (void *)(GO_PARAM1(ctx) + r.off->h2_response_writer_rws)) || !rws)
		return 0;
	bpf_probe_read_user(&status, sizeof(status), (void *)(rws + r.off->h2_rws_status));
	end_server_span(&r, status);
	return 0;
}

/* ---- net/http client ------------------------------------------------------------ */

/*
 * net/http.(*Transport).roundTrip(t, req *Request): t in RAX, req in RBX. A
 * request made inside a span becomes a CLIENT child of the goroutine's
 * context; outside any span nothing happens.
 */
SEC("uprobe")
int http_client_start(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_HTTP_CLIENT))
		return 0;
	__u64 req = GO_PARAM2(ctx);
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r.key);
	if (!g)
		return 0; /* outside any span */
	if (g->client.req) {
		if (g->client.req == req)
			return 0; /* restarted after its stack grew */
		end_client_span(&r, g, 0, END_SUPERSEDED, (struct http_version){});
	}
	if (!g->has_ctx)
		return 0;
	struct span_start_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_FULL);
		return 0;
	}
	fill_header(&e->header, EVENT_SPAN_START, &r);
	e->span_kind = SPAN_KIND_CLIENT;
	__builtin_memcpy(e->trace_id, g->ctx.trace_id, 16);
	__builtin_memcpy(e->parent_span_id, g->ctx.span_id, 8);
	e->trace_flags = 1;
	random_bytes(e->span_id, 8);
	struct request_head *head = read_request_head(req);
	if (!head) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	read_request(r.off, head, e);
	if (r.off->features & FEAT_PROPAGATE) {
		struct outgoing out = {.trace_flags = 1};
		__builtin_memcpy(out.ctx.trace_id, e->trace_id, 16);
		__builtin_memcpy(out.ctx.span_id, e->span_id, 8);
		struct request_key rk = {.tgid = r.key.tgid, .req = req};
		bpf_map_update_elem(&outgoing_by_request, &rk, &out, BPF_ANY);
	}
	open_span(&r, g, 1, e, req);
	return 0;
}

/* The running goroutine, if a client span of rpc_system (HTTP: RPC_SYSTEM_NONE) is open on it. */
static __always_inline struct goroutine *open_client_span(struct pt_regs *ctx, struct running *r, __u8 rpc_system)
{
	if (running_goroutine(ctx, r))
		return 0;
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r->key);
	return g && g->client.req && g->client.rpc_system == rpc_system ? g : 0;
}

/*
 * The return site of CALL net/http.(*Client).send in (*Client).do, on the
 * goroutine that made the request: resp in RAX, err in RCX:RDI. (No function
 * runs next on every path: redirectBehavior is inlined.)
 */
SEC("uprobe")
int http_client_end(struct pt_regs *ctx)
{
	struct running r;
	struct goroutine *g = open_client_span(ctx, &r, RPC_SYSTEM_NONE);
	if (!g)
		return 0;
	__u64 resp = GO_PARAM1(ctx);
	__u64 err = GO_PARAM3(ctx);
	__s64 status = 0;
	struct http_version version = {};
	if (!err && resp) {
		bpf_probe_read_user(&status, sizeof(status), (void *)(resp + r.off->client_response_status_code));
		version = read_http_version(r.off, resp + r.off->client_response_proto_major);
	}
	end_client_span(&r, g, status, err ? END_CLIENT_ERROR : END_FINISHED, version);
	drop_if_empty(&r, g);
	return 0;
}

/* ---- gRPC server (google.golang.org/grpc) ---------------------------------------- */

/*
 * (*http2Server).operateHeaders(t, ctx context.Context, frame
 * *http2.MetaHeadersFrame, handle): t in RAX, ctx in RBX:RCX, frame in RDI.
 * On the connection's reader goroutine, before the stream's handler runs: a
 * traceparent among the frame's fields waits for that handler.
 */
SEC("uprobe")
int grpc_server_headers(struct pt_regs *ctx)
{
	struct go_offsets *off = offsets_of(ctx);
	if (!off || !(off->features & FEAT_GRPC_SERVER))
		return 0;
	__u64 frame = GO_PARAM4(ctx);
	struct go_slice fields;
	__u64 headers = 0;
	if (bpf_probe_read_user(&fields, sizeof(fields), (void *)(frame + off->h2_meta_fields)) ||
	    bpf_probe_read_user(&headers, sizeof(headers), (void *)(frame + off->h2_meta_headers_frame)) || !headers)
		return 0;
	struct parsed_parent parent;
	for (int i = 0; i < GRPC_HEADERS_MAX && i < fields.len; i++) {
		if (!grpc_traceparent_field(off, (__u64)fields.ptr + i * off->hpack_field_size, &parent))
			continue;
		struct grpc_stream_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .transport = GO_PARAM1(ctx)};
		if (!bpf_probe_read_user(&key.stream_id, sizeof(key.stream_id), (void *)(headers + off->h2_frame_stream_id)))
			bpf_map_update_elem(&grpc_parents, &key, &parent, BPF_ANY);
		return 0;
	}
	return 0;
}

/*
 * (*Server).handleStream(s, t transport.ServerTransport, stream): s in RAX,
 * t in RBX:RCX, stream in RDI; on the goroutine that runs the RPC's handler
 * (its own, or a stream worker's). The span is named by the stream's method.
 */
SEC("uprobe")
int grpc_server_start(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_GRPC_SERVER))
		return 0;
	__u64 server_stream = GO_PARAM4(ctx);
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r.key);
	if (g && g->server.req == server_stream)
		return 0; /* the function restarted after its stack grew */
	if (g && g->server.req) /* a stream worker whose last RPC never wrote its status */
		close_span(&r, g, &g->server, 0, END_SUPERSEDED, 0, (struct http_version){});
	__u64 stream = grpc_stream(r.off, server_stream);
	struct grpc_stream_key key = {.tgid = r.key.tgid, .transport = GO_PARAM3(ctx)};
	if (!stream || bpf_probe_read_user(&key.stream_id, sizeof(key.stream_id), (void *)(stream + r.off->grpc_stream_id)))
		return 0;

	struct parsed_parent *parent = bpf_map_lookup_elem(&grpc_parents, &key);
	struct span_start_event *e = server_start_event(&r, parent);
	if (parent)
		bpf_map_delete_elem(&grpc_parents, &key);
	if (!e)
		return 0;
	e->method_len = 0;
	e->host_len = 0;
	e->path_len = read_go_string(e->path, PATH_MAX_LEN, stream + r.off->grpc_stream_method);
	e->proto_major = 2;
	e->proto_minor = 0;
	e->rpc_system = RPC_SYSTEM_GRPC;
	open_span(&r, g, 0, e, server_stream);
	return 0;
}

/*
 * (*http2Server).writeStatus(t, s *ServerStream, st *status.Status) (grpc
 * 1.69+; WriteStatus(t, s *Stream, st) before): t in RAX, s in RBX, st in
 * RCX. The handler returned (a stream: it closed), on its goroutine; the RPC
 * ends with st's code.
 */
SEC("uprobe")
int grpc_server_end(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r))
		return 0;
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r.key);
	if (!g || !g->server.req || g->server.req != GO_PARAM2(ctx))
		return 0;
	__u64 spb = 0;
	__s32 code = 2; /* UNKNOWN, when the status cannot be read */
	if (!bpf_probe_read_user(&spb, sizeof(spb), (void *)(GO_PARAM3(ctx) + r.off->grpc_status_s))) {
		if (spb)
			bpf_probe_read_user(&code, sizeof(code), (void *)(spb + r.off->grpc_status_code));
		else
			code = 0; /* a nil *spb.Status is OK */
	}
	close_span(&r, g, &g->server, code, END_FINISHED, 0, (struct http_version){});
	drop_if_empty(&r, g);
	return 0;
}

/* ---- gRPC client ---------------------------------------------------------------- */

/*
 * A call made inside a span becomes a CLIENT child of the goroutine's context,
 * named by its method (a Go string), to the target cc was made for.
 */
static __always_inline void grpc_client_open(struct pt_regs *ctx, __u64 cc, __u64 method_ptr, __s64 method_len)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_GRPC_CLIENT))
		return;
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r.key);
	if (!g)
		return; /* outside any span */
	if (g->client.req) {
		if (g->client.req == method_ptr)
			return; /* restarted after its stack grew */
		end_client_span(&r, g, 0, END_SUPERSEDED, (struct http_version){});
	}
	if (!g->has_ctx || method_len <= 0)
		return;
	struct span_start_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_FULL);
		return;
	}
	fill_header(&e->header, EVENT_SPAN_START, &r);
	e->span_kind = SPAN_KIND_CLIENT;
	__builtin_memcpy(e->trace_id, g->ctx.trace_id, 16);
	__builtin_memcpy(e->parent_span_id, g->ctx.span_id, 8);
	e->trace_flags = 1;
	random_bytes(e->span_id, 8);
	e->method_len = 0;
	__u32 n = method_len > PATH_MAX_LEN ? PATH_MAX_LEN : (__u32)method_len;
	barrier_var(n);
	if (n > PATH_MAX_LEN || bpf_probe_read_user(e->path, n, (void *)method_ptr))
		n = 0;
	e->path_len = n ? (method_len > 0xffffffff ? 0xffffffff : (__u32)method_len) : 0;
	__u32 host = read_go_string(e->host, HOST_MAX, cc + r.off->grpc_client_conn_target);
	e->host_len = host > 255 ? 255 : host;
	e->proto_major = 2;
	e->proto_minor = 0;
	e->rpc_system = RPC_SYSTEM_GRPC;
	open_span(&r, g, 1, e, method_ptr);
}

/* (*ClientConn).Invoke(cc, ctx, method string, args, reply, opts...): cc in RAX, ctx in RBX:RCX, method in RDI:RSI. A unary call. */
SEC("uprobe")
int grpc_client_invoke(struct pt_regs *ctx)
{
	grpc_client_open(ctx, GO_PARAM1(ctx), GO_PARAM4(ctx), GO_PARAM5(ctx));
	return 0;
}

/* (*ClientConn).NewStream(cc, ctx, desc, method string, opts...): cc in RAX, ctx in RBX:RCX, desc in RDI, method in RSI:R8. A stream. */
SEC("uprobe")
int grpc_client_stream(struct pt_regs *ctx)
{
	grpc_client_open(ctx, GO_PARAM1(ctx), GO_PARAM5(ctx), GO_PARAM6(ctx));
	return 0;
}

/*
 * (*clientStream).finish(cs, err error): cs in RAX, err in RBX:RCX (itab,
 * data). The call is over (a unary one's response came, a stream ended), on
 * the goroutine that made it. Its code: 0 for no error or io.EOF (how a
 * stream ends well), a *status.Error's code, else UNKNOWN. An error's type is
 * told by its itab's one method, which needs no symbol table.
 */
SEC("uprobe")
int grpc_client_end(struct pt_regs *ctx)
{
	struct running r;
	struct goroutine *g = open_client_span(ctx, &r, RPC_SYSTEM_GRPC);
	if (!g)
		return 0;
	__u64 itab = GO_PARAM2(ctx), data = GO_PARAM3(ctx);
	__s32 code = 0;
	if (itab) {
		/* uprobe handlers see the probed instruction's address in ip */
		__u64 bias = PT_REGS_IP(ctx) - r.off->grpc_client_end_site;
		__u64 method = 0, text[2] = {};
		char eof[3] = {};
		code = 2; /* UNKNOWN */
		/* an itab: inter, _type, hash (padded to 8), then its methods' code */
		bpf_probe_read_user(&method, sizeof(method), (void *)(itab + 24));
		if (method && method == r.off->grpc_status_error_method + bias) {
			__u64 st = 0, spb = 0;
			if (!bpf_probe_read_user(&st, sizeof(st), (void *)(data + r.off->grpc_error_s)) && st &&
			    !bpf_probe_read_user(&spb, sizeof(spb), (void *)(st + r.off->grpc_status_s)))
				code = 0; /* a Status without *spb.Status is OK */
			if (spb)
				bpf_probe_read_user(&code, sizeof(code), (void *)(spb + r.off->grpc_status_code));
		} else if (method && method == r.off->errors_string_method + bias &&
			   !bpf_probe_read_user(text, sizeof(text), (void *)data) && text[1] == 3 &&
			   !bpf_probe_read_user(eof, sizeof(eof), (void *)text[0]) && eof[0] == 'E' && eof[1] == 'O' && eof[2] == 'F') {
			code = 0; /* io.EOF: errors.New("EOF") */
		}
	}
	end_client_span(&r, g, code, END_FINISHED, (struct http_version){.major = 2});
	drop_if_empty(&r, g);
	return 0;
}

/* Keeps the request-line bytes that net/http writes unescaped: letters, digits, "/-._~". */
static __always_inline int plain_path_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '/' || c == '-' || c == '.' || c == '_' || c == '~';
}

/*
 * net/http.(*Request).write(r, w, ...): r in RAX, on the connection's
 * writeLoop goroutine, which sends the request's bytes right after. If r
 * belongs to a client span (and carries no traceparent of its own), the
 * thread is told what the sk_msg program of propagate.bpf.c must add.
 */
SEC("uprobe")
int http_request_write(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_PROPAGATE))
		return 0;
	__u64 req = GO_PARAM1(ctx);
	struct request_key rk = {.tgid = r.key.tgid, .req = req};
	struct outgoing *out = bpf_map_lookup_elem(&outgoing_by_request, &rk);
	if (!out)
		return 0;
	__u64 header = 0;
	bpf_probe_read_user(&header, sizeof(header), (void *)(req + r.off->request_header));
	if (header_traceparent(r.off, header)) {
		count(STAT_PROPAGATE_SKIPPED); /* the program propagates by itself */
		return 0;
	}
	struct pending_send p = {.out = *out, .since_ns = bpf_ktime_get_ns()};
	/* "METHOD /path", as far as the path has bytes net/http never escapes */
	__u32 mlen = read_go_string(p.prefix, METHOD_MAX - 1, req + r.off->request_method);
	if (mlen == 0 || mlen >= METHOD_MAX)
		return 0;
	__u32 n = mlen;
	barrier_var(n); /* keeps the mask below, which tells the verifier n's bound */
	n &= METHOD_MAX - 1;
	p.prefix[n] = ' ';
	n++;
	p.prefix_len = n;
	__u64 url = 0;
	if (!bpf_probe_read_user(&url, sizeof(url), (void *)(req + r.off->request_url)) && url) {
		char path[REQUEST_LINE_PREFIX - METHOD_MAX] = {};
		__u32 plen = read_go_string(path, sizeof(path), url + r.off->url_path);
		for (int i = 0; i < sizeof(path); i++) {
			if (i >= plen || !plain_path_byte(path[i]))
				break;
			p.prefix[(n + i) & (REQUEST_LINE_PREFIX - 1)] = path[i];
			p.prefix_len = n + i + 1;
		}
	}
	bpf_map_update_elem(&pending_sends, &r.pid_tgid, &p, BPF_ANY);
	/* Marks the thread, so that a switch-out before the send hands the entry over. */
	struct thread_state *ts = thread_state(1);
	if (ts)
		ts->pending_send = 1;
	return 0;
}

/*
 * Never called, never loaded: it puts the event layouts into the object's BTF
 * (clang records only the types of globals and functions), where a test
 * compares them with the Java decoders.
 */
__attribute__((used)) int layouts_of_tracer_events(struct event_header *h, struct span_start_event *s,
						struct span_end_event *e, struct go_offsets *o,
						struct handoff_event *c)
{
	return 0;
}

/* As above, for the events of the application's spans (BPF functions take at most five arguments). */
__attribute__((used)) int layouts_of_app_span_events(struct app_server_span_event *a)
{
	return 0;
}

/* ---- the OpenTelemetry Go SDK's spans (app_spans.h) ------------------------- */

/*
 * go.opentelemetry.io/otel/sdk/trace.(*tracer).newRecordingSpan(tr, [ctx,] psc, sc, ...):
 * a recording span starts on this goroutine. psc and sc hold arrays, so the
 * register ABI passes them on the stack, psc first (above the return
 * address), sc after it. A sampled span (one the application exports) becomes
 * the goroutine's context. One without a parent (psc has no trace) that
 * starts inside braid's span is reported, so that braid's span links to it.
 */
SEC("uprobe")
int sdk_span_start(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_SDK_SPANS))
		return 0;
	struct sdk_span_context sc;
	if (bpf_probe_read_user(&sc, sizeof(sc), (void *)(PT_REGS_SP(ctx) + r.off->sdk_new_span_sc))) {
		count(STAT_READ_FAILED);
		return 0;
	}
	if (!(sc.trace_flags & 1))
		return 0; /* not sampled: the application exports it not */
	struct trace_context now;
	__builtin_memcpy(now.trace_id, sc.trace_id, 16);
	__builtin_memcpy(now.span_id, sc.span_id, 8);
	struct trace_context braids = {};
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r.key);
	int inside = g && g->has_ctx && !g->ctx_app;
	if (inside)
		braids = g->ctx;
	if (!app_span_starts(&r, g, &now) || !inside)
		return 0;
	__u64 parent_trace[2] = {};
	if (bpf_probe_read_user(parent_trace, sizeof(parent_trace), (void *)(PT_REGS_SP(ctx) + 8)) || parent_trace[0] || parent_trace[1])
		return 0; /* psc's trace id: it has a parent of its own */
	struct app_server_span_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_FULL);
		return 0;
	}
	fill_header(&e->header, EVENT_APP_ROOT_SPAN, &r);
	e->span = now;
	e->covered = braids;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* An application's SERVER span that started inside braid's span `covered` (struct app_server_span_event). */
static __always_inline void report_app_server_span(const struct running *r, __u64 s, const struct trace_context *span,
						   const struct trace_context *covered)
{
	__s64 kind = 0;
	if (bpf_probe_read_user(&kind, sizeof(kind), (void *)(s + r->off->sdk_span_kind)) || kind != OTEL_SPAN_KIND_SERVER)
		return;
	struct app_server_span_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_FULL);
		return;
	}
	fill_header(&e->header, EVENT_APP_SERVER_SPAN, r);
	e->span = *span;
	e->covered = *covered;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/*
 * go.opentelemetry.io/otel/sdk/trace.(*recordingSpan).End(s, options...): the
 * span ends, here or on another goroutine. The goroutine that started it, if
 * it still shows it, goes back to the innermost open context before it; so
 * does the thread that runs that goroutine right now, before the SDK takes
 * the end time.
 */
SEC("uprobe")
int sdk_span_end(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_SDK_SPANS))
		return 0;
	struct trace_context ended;
	if (bpf_probe_read_user(&ended, sizeof(ended), (void *)(GO_PARAM1(ctx) + r.off->sdk_span_context))) {
		count(STAT_READ_FAILED);
		return 0;
	}
	struct app_span *span = app_span_ending(&r, &ended);
	if (!span)
		return 0;
	if (span->has_prev && !span->prev_app)
		report_app_server_span(&r, GO_PARAM1(ctx), &ended, &span->prev);
	app_span_ended(&r, span, &ended);
	return 0;
}
