/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * The maps and helpers of the writer, shared by tracer.bpf.c and
 * propagate.bpf.c: user space loads tracer.bpf.o, then makes propagate.bpf.o
 * use the very same maps (bpf_map__reuse_fd).
 */
#ifndef BRAID_TRACER_MAPS_H
#define BRAID_TRACER_MAPS_H

TRACES_CTX_V1_MAP;

#include "goroutine.h"

/* The goroutine a thread runs, as the last execute saw it (task-local storage). */
struct thread_state {
	__u64 g;
	__u64 goid;
	__u32 has_entry; /* this thread has an entry in traces_ctx_v1 */
	__u32 pending_send; /* --propagate: it may have a pending_sends entry */
};

/* The client span of a request, for --propagate. */
struct outgoing {
	struct trace_context ctx;
	__u8 trace_flags;
	__u8 _pad[7];
};

#define REQUEST_LINE_PREFIX 32
#define PENDING_MAX_AGE_NS 1000000000ULL /* a send later than this is not that request's */

/*
 * A request a thread is about to send (--propagate): its traceparent, and the
 * start of its request line ("GET /path"), which the sk_msg program checks
 * before it adds the header, so that it never lands in another request.
 */
struct pending_send {
	struct outgoing out;
	__u64 since_ns;
	__u32 prefix_len;
	__u32 _pad;
	char prefix[REQUEST_LINE_PREFIX];
};

struct request_key {
	__u32 tgid;
	__u32 _pad;
	__u64 req;
};

/* By binary id (the attach cookie); an array: every probe looks it up. Id 0 is unused. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct go_offsets);
} binaries SEC(".maps");

/* Goroutines with a context or an open span. */
GOROUTINES_MAP;

#include "app_spans.h"

/* Client spans by request, for the goroutine that writes the request out. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct request_key);
	__type(value, struct outgoing);
} outgoing_by_request SEC(".maps");

/* Threads between Request.write and the send of the request's bytes. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pending_send);
} pending_sends SEC(".maps");

/*
 * Requests whose goroutine left its thread between Request.write and the
 * send (preempted, or parked on a full socket): the entry follows the
 * goroutine to the thread that runs it next, so that the header lands in
 * this request and in no other request that thread sends meanwhile.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct goroutine_key);
	__type(value, struct pending_send);
} pending_by_goroutine SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* ~40k spans: the first seconds of a busy service, while braid's JIT warms up (sized by --span-buffer) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} tracer_stats SEC(".maps");

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&tracer_stats, &stat);
	if (n)
		(*n)++;
}

#include "go_http_header.h"

/* An array entry always exists: a binary braid has not set up reads as all zero. */
static __always_inline struct go_offsets *offsets_of(struct pt_regs *ctx)
{
	__u32 id = (__u32)bpf_get_attach_cookie(ctx);
	struct go_offsets *off = bpf_map_lookup_elem(&binaries, &id);
	return off && off->g_goid ? off : 0;
}

static __always_inline int read_u64(__u64 *out, __u64 addr)
{
	if (bpf_probe_read_user(out, sizeof(*out), (void *)addr)) {
		count(STAT_READ_FAILED);
		return -1;
	}
	return 0;
}

/*
 * This thread's state; created (create != 0) with has_entry set: an entry may
 * have been written while the kernel could not make the state, and the
 * thread's next switch-out must delete it.
 */
static __always_inline struct thread_state *thread_state(int create)
{
	struct thread_state fresh = {.has_entry = 1};
	return bpf_task_storage_get(&threads, bpf_get_current_task_btf(), &fresh,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

#ifndef ENOENT
#define ENOENT 2
#endif

/*
 * Whether the kernel refused a traces_ctx_v1 update or delete (err, its
 * result): counted. A key that is not there (-ENOENT) is no refusal.
 */
static __always_inline int refused(long err)
{
	if (!err || err == -ENOENT)
		return 0;
	count(STAT_CTX_MAP_REFUSED);
	return 1;
}

/* Deletes a thread's traces_ctx_v1 entry (key: tgid << 32 | tid); whether it is gone. */
static __always_inline int hide(__u64 thread)
{
	return !refused(bpf_map_delete_elem(&traces_ctx_v1, &thread));
}

/*
 * Sets this thread's traces_ctx_v1 entry, or deletes it (ctx NULL); ts is its
 * state. An update the kernel refuses deletes the entry instead: the thread
 * shows no span rather than the one it showed before.
 */
static __always_inline void show_on(struct thread_state *ts, __u64 pid_tgid,
				    const struct trace_context *ctx)
{
	if (ctx && !refused(bpf_map_update_elem(&traces_ctx_v1, &pid_tgid, ctx, BPF_ANY))) {
		if (ts)
			ts->has_entry = 1;
		return;
	}
	/* No context, or the update was refused: no entry. */
	if ((!ts || ts->has_entry || ctx) && hide(pid_tgid) && ts)
		ts->has_entry = 0;
}

static __always_inline void show(__u64 pid_tgid, const struct trace_context *ctx)
{
	show_on(thread_state(1), pid_tgid, ctx);
}

/* Who runs the probed Go function: its binary, its thread, its goroutine. */
struct running {
	struct go_offsets *off;
	__u64 pid_tgid;
	__u32 binary_id;
	struct goroutine_key key;
};

/* Fills r for goroutine gp in the probed binary, on this thread; 0 on success. */
static __always_inline int goroutine_of(struct pt_regs *ctx, __u64 gp, struct running *r)
{
	r->binary_id = (__u32)bpf_get_attach_cookie(ctx);
	r->off = bpf_map_lookup_elem(&binaries, &r->binary_id);
	if (!r->off || !r->off->g_goid)
		return -1;
	r->pid_tgid = bpf_get_current_pid_tgid();
	r->key.tgid = r->pid_tgid >> 32;
	r->key._pad = 0;
	return read_u64(&r->key.goid, gp + r->off->g_goid);
}

/* Fills r for the goroutine running this Go function (g is in R14); 0 on success. */
static __always_inline int running_goroutine(struct pt_regs *ctx, struct running *r)
{
	return goroutine_of(ctx, GO_G(ctx), r);
}

static __always_inline void fill_header(struct event_header *h, __u32 kind, const struct running *r)
{
	h->kind = kind;
	h->pid = r->pid_tgid >> 32;
	h->tid = (__u32)r->pid_tgid;
	h->binary_id = r->binary_id;
	h->goid = r->key.goid;
	h->time_ns = bpf_ktime_get_ns();
}

/* Copies the bytes of a Go string whose header is known into buf (at most max bytes); returns its full length. */
static __always_inline __u32 copy_go_string(char *buf, __u32 max, const void *ptr, __s64 len)
{
	if (len <= 0 || !ptr)
		return 0;
	__u32 n = len > max ? max : (__u32)len;
	barrier_var(n);
	if (n > max)
		return 0;
	if (bpf_probe_read_user(buf, n, ptr)) {
		count(STAT_READ_FAILED);
		return 0;
	}
	return len > 0xffffffff ? 0xffffffff : (__u32)len;
}

/* Copies the Go string at addr into buf (at most max bytes); returns its full length. */
static __always_inline __u32 read_go_string(char *buf, __u32 max, __u64 addr)
{
	struct go_string s;
	if (bpf_probe_read_user(&s, sizeof(s), (void *)addr))
		return 0;
	return copy_go_string(buf, max, s.ptr, s.len);
}

static __always_inline void random_bytes(__u8 *buf, int n)
{
	for (int i = 0; i < n; i += 4) {
		__u32 r = bpf_get_prandom_u32();
		__builtin_memcpy(buf + i, &r, 4);
	}
}

/* ---- spans --------------------------------------------------------------- */

/* An HTTP version as the request or response states it; 0.0 when unknown. */
struct http_version {
	__u8 major;
	__u8 minor;
};

/* ProtoMajor and ProtoMinor as a request or response holds them; 0.0 when they are not a version. */
static __always_inline struct http_version http_version_of(__s64 major, __s64 minor)
{
	struct http_version v = {};
	if (major > 0 && major < 10 && minor >= 0 && minor < 10) {
		v.major = major;
		v.minor = minor;
	}
	return v;
}

/* Reads the ProtoMajor and ProtoMinor ints at addr (of a Request or a Response). */
static __always_inline struct http_version read_http_version(const struct go_offsets *off, __u64 addr)
{
	__s64 proto[2] = {};
	if (!(off->features & FEAT_HTTP_VERSION) || !addr || bpf_probe_read_user(proto, sizeof(proto), (void *)addr))
		return (struct http_version){};
	return http_version_of(proto[0], proto[1]);
}

/*
 * Span ends that found the ring buffer full, by (tgid, span id): braid reads them
 * after each drain, so that a span whose start it has keeps its exact end. Only
 * when more ends than this are lost between two drains is the oldest forgotten.
 */
struct lost_end_key {
	__u32 tgid;
	__u32 _pad;
	__u8 span_id[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct lost_end_key);
	__type(value, struct span_end_event);
} lost_ends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct span_end_event);
} end_scratch SEC(".maps");

static __always_inline void emit_end(const struct running *r, const struct open_span *span,
				     __s64 status, __u32 reason, __u64 route_req, struct http_version version,
				     __u8 app_span_open)
{
	__u32 zero = 0;
	struct span_end_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	int lost = !e;
	if (lost) {
		count(STAT_RINGBUF_FULL);
		e = bpf_map_lookup_elem(&end_scratch, &zero);
		if (!e)
			return;
	}
	fill_header(&e->header, EVENT_SPAN_END, r);
	__builtin_memcpy(e->trace_id, span->ctx.trace_id, 16);
	__builtin_memcpy(e->span_id, span->ctx.span_id, 8);
	e->status = status;
	e->reason = reason;
	e->route_len = 0;
	if (route_req && (r->off->features & FEAT_ROUTE))
		e->route_len = read_go_string(e->route, ROUTE_MAX, route_req + r->off->request_pattern);
	e->proto_major = version.major;
	e->proto_minor = version.minor;
	e->app_span_open = app_span_open;
	if (lost) {
		struct lost_end_key key = {.tgid = r->key.tgid};
		__builtin_memcpy(key.span_id, span->ctx.span_id, 8);
		if (!bpf_map_update_elem(&lost_ends, &key, e, BPF_ANY))
			count(STAT_END_KEPT);
		return;
	}
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* Ends an open span: the goroutine's context goes back to what it was before. */
static __always_inline void close_span(const struct running *r, struct goroutine *g,
				       struct open_span *span, __s64 status, __u32 reason, __u64 route_req,
				       struct http_version version)
{
	/*
	 * The application's span that is innermost now, if any, started inside
	 * this one: otelgrpc's, which ends after the RPC's status went out. The
	 * correlator waits for its verdict before it exports braid's span.
	 */
	settle_app_context(r->key.tgid, g);
	__u8 app_span_open = g->has_ctx && g->ctx_app;
	if (span->has_prev) {
		g->ctx = span->prev;
		g->has_ctx = 1;
		g->ctx_app = span->prev_app;
		settle_app_context(r->key.tgid, g);
	} else {
		g->has_ctx = 0;
		g->ctx_app = 0;
	}
	/* The thread stops showing the span before the end is timed: no sample of it is later. */
	if (r->off->features & FEAT_CTX_MAP)
		show(r->pid_tgid, g->has_ctx ? &g->ctx : 0);
	emit_end(r, span, status, reason, route_req, version, app_span_open);
	span->req = 0;
}

static __always_inline void end_client_span(const struct running *r, struct goroutine *g,
					    __s64 status, __u32 reason, struct http_version version)
{
	struct request_key rk = {.tgid = r->key.tgid, .req = g->client.req};
	if (g->client.rpc_system == RPC_SYSTEM_NONE) /* only HTTP requests are propagated into */
		bpf_map_delete_elem(&outgoing_by_request, &rk);
	close_span(r, g, &g->client, status, reason, 0, version);
}

/* Forgets a goroutine that has nothing left: no context, no open span, no pending send. */
static __always_inline int goroutine_is_empty(const struct goroutine *g)
{
	return !g->has_ctx && !g->server.req && !g->client.req && !g->pending_send;
}

static __always_inline void drop_if_empty(const struct running *r, struct goroutine *g)
{
	if (goroutine_is_empty(g))
		bpf_map_delete_elem(&goroutines, &r->key);
}

/*
 * --propagate, at a switch-out: the request this thread's goroutine was
 * about to send is not sent yet. It goes with the goroutine (marked in its
 * state, which the next execute looks up anyway), and this thread forgets it.
 */
static __always_inline void pending_send_leaves(__u64 pid_tgid, const struct thread_state *ts)
{
	struct pending_send *p = bpf_map_lookup_elem(&pending_sends, &pid_tgid);
	if (!p)
		return; /* sent already: the usual case */
	if (bpf_ktime_get_ns() - p->since_ns > PENDING_MAX_AGE_NS)
		goto forget; /* never sent where braid sees it (a socket from before braid) */
	struct goroutine_key key = {.tgid = pid_tgid >> 32, .goid = ts->goid};
	if (bpf_map_update_elem(&pending_by_goroutine, &key, p, BPF_ANY))
		goto forget;
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &key);
	if (g) {
		g->pending_send = 1;
	} else {
		struct goroutine fresh = {.pending_send = 1};
		if (bpf_map_update_elem(&goroutines, &key, &fresh, BPF_ANY)) {
			count(STAT_GOROUTINE_MAP_FULL);
			bpf_map_delete_elem(&pending_by_goroutine, &key);
		}
	}
forget:
	bpf_map_delete_elem(&pending_sends, &pid_tgid);
}

/* --propagate, at a switch-in: the goroutine's pending send is this thread's now. */
static __always_inline void pending_send_arrives(__u64 pid_tgid, const struct goroutine_key *key,
						 struct goroutine *g, struct thread_state *ts)
{
	struct pending_send *p = bpf_map_lookup_elem(&pending_by_goroutine, key);
	if (p) {
		bpf_map_update_elem(&pending_sends, &pid_tgid, p, BPF_ANY);
		bpf_map_delete_elem(&pending_by_goroutine, key);
		if (ts)
			ts->pending_send = 1;
	}
	g->pending_send = 0;
}

/*
 * Starts a span on the running goroutine (g: its entry, or NULL): the start
 * event, the goroutine's state, the thread's entry. The caller has filled the
 * event's IDs, kind and request fields.
 */
static __always_inline void open_span(const struct running *r, struct goroutine *g, int client,
				      struct span_start_event *e, __u64 req)
{
	struct open_span span = {.req = req, .trace_flags = e->trace_flags, .rpc_system = e->rpc_system};
	__builtin_memcpy(span.ctx.trace_id, e->trace_id, 16);
	__builtin_memcpy(span.ctx.span_id, e->span_id, 8);
	if (g && g->has_ctx) {
		span.prev = g->ctx;
		span.has_prev = 1;
		span.prev_app = g->ctx_app;
	}
	if (g) {
		if (client)
			g->client = span;
		else
			g->server = span;
		g->ctx = span.ctx;
		g->has_ctx = 1;
		g->ctx_app = 0;
	} else {
		struct goroutine fresh = {.ctx = span.ctx, .has_ctx = 1, .tid = (__u32)r->pid_tgid};
		if (client)
			fresh.client = span;
		else
			fresh.server = span;
		if (bpf_map_update_elem(&goroutines, &r->key, &fresh, BPF_ANY)) {
			count(STAT_GOROUTINE_MAP_FULL);
			bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
			return;
		}
	}
	if (r->off->features & FEAT_CTX_MAP) {
		show(r->pid_tgid, &span.ctx);
	}
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/*
 * The first bytes of an *http.Request, read at once: Method, URL, Proto,
 * ProtoMajor and ProtoMinor, Header and Host lie within them in every Go
 * release (Host ends at 144). One read instead of six: each read of user
 * memory was ~0.1 µs of the start probe. A field a release moves beyond them
 * is read on its own.
 */
#define REQUEST_HEAD 160

struct request_head {
	__u64 req;
	__u64 read; /* whether b holds the head: else every field is read on its own */
	__u8 b[REQUEST_HEAD];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct request_head);
} request_heads SEC(".maps");

static __always_inline struct request_head *read_request_head(__u64 req)
{
	__u32 zero = 0;
	struct request_head *h = bpf_map_lookup_elem(&request_heads, &zero);
	if (!h)
		return 0;
	h->req = req;
	h->read = !bpf_probe_read_user(h->b, REQUEST_HEAD, (void *)req);
	return h;
}

/* The 8 bytes at offset o of the request: from its head when they lie there. */
static __always_inline __u64 request_u64(const struct request_head *h, __u32 o)
{
	__u64 v = 0;
	if (h->read && o <= REQUEST_HEAD - 8) {
		barrier_var(o);
		if (o <= REQUEST_HEAD - 8)
			__builtin_memcpy(&v, &h->b[o], 8);
	} else {
		bpf_probe_read_user(&v, sizeof(v), (void *)(h->req + o));
	}
	return v;
}

/* Copies the Go string at offset o of the request into buf (at most max bytes); returns its full length. */
static __always_inline __u32 request_string(const struct request_head *h, __u32 o, char *buf, __u32 max)
{
	if (!h->read || o > REQUEST_HEAD - 16)
		return read_go_string(buf, max, h->req + o);
	return copy_go_string(buf, max, (const void *)request_u64(h, o), (__s64)request_u64(h, o + 8));
}

/* The request's ProtoMajor and ProtoMinor. */
static __always_inline struct http_version request_version(const struct go_offsets *off, const struct request_head *h)
{
	if (!(off->features & FEAT_HTTP_VERSION))
		return (struct http_version){};
	return http_version_of((__s64)request_u64(h, off->request_proto_major), (__s64)request_u64(h, off->request_proto_major + 8));
}

/*
 * Whether the request is the "PRI *" request of HTTP/2 with prior knowledge
 * that golang.org/x/net/http2/h2c hands to the server: its ServeHTTP serves
 * the whole connection, whose streams' handlers are not its work.
 */
static __always_inline int is_h2c_preface(const struct go_offsets *off, const struct request_head *h)
{
	if (request_version(off, h).major != 2)
		return 0;
	char m[4] = {};
	return request_string(h, off->request_method, m, 3) == 3 && m[0] == 'P' && m[1] == 'R' && m[2] == 'I';
}

/* Method, path, host and version of an *http.Request into a start event. */
static __always_inline void read_request(const struct go_offsets *off, const struct request_head *h,
					 struct span_start_event *e)
{
	__u32 method = request_string(h, off->request_method, e->method, METHOD_MAX);
	e->method_len = method > 255 ? 255 : method;
	__u64 url = request_u64(h, off->request_url);
	e->path_len = 0;
	e->host_len = 0;
	if (url)
		e->path_len = read_go_string(e->path, PATH_MAX_LEN, url + off->url_path);
	__u32 host = request_string(h, off->request_host, e->host, HOST_MAX);
	if (!host && url)
		host = read_go_string(e->host, HOST_MAX, url + off->url_host);
	e->host_len = host > 255 ? 255 : host;
	struct http_version v = request_version(off, h);
	e->proto_major = v.major;
	e->proto_minor = v.minor;
	e->rpc_system = RPC_SYSTEM_NONE;
}

/* A goroutine has exited: what it left open ends, its state goes. */
static __always_inline void goroutine_exited(const struct running *r)
{
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r->key);
	if (!g)
		return;
	if (g->client.req) {
		struct request_key rk = {.tgid = r->key.tgid, .req = g->client.req};
		emit_end(r, &g->client, 0, END_GOROUTINE_EXIT, 0, (struct http_version){}, 0);
		bpf_map_delete_elem(&outgoing_by_request, &rk);
	}
	if (g->server.req)
		emit_end(r, &g->server, 0, END_GOROUTINE_EXIT, 0, (struct http_version){}, 0);
	if (g->pending_send)
		bpf_map_delete_elem(&pending_by_goroutine, &r->key);
	bpf_map_delete_elem(&goroutines, &r->key);
}

#endif /* BRAID_TRACER_MAPS_H */
