// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * The writer: uprobes on Go binaries that create net/http server spans and
 * keep traces_ctx_v1 equal, for every thread, to the span of the goroutine
 * the thread runs right now.
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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

TRACES_CTX_V1_MAP;

struct goroutine_key {
	__u32 tgid;
	__u32 _pad;
	__u64 goid;
};

/* A server span that is open on a goroutine. */
struct server_span {
	struct trace_context ctx;
	struct trace_context prev; /* the goroutine's context before the span */
	__u64 req;                 /* *http.Request: tells a restart from a new request */
	__u8 has_prev;
	__u8 _pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct go_offsets);
} binaries SEC(".maps");

/* What a thread running the goroutine must show in traces_ctx_v1. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct goroutine_key);
	__type(value, struct trace_context);
} goroutine_ctx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct goroutine_key);
	__type(value, struct server_span);
} server_spans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* ~20k spans: 200 ms at 100k requests/s */
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

static __always_inline struct go_offsets *offsets_of(struct pt_regs *ctx)
{
	__u32 id = (__u32)bpf_get_attach_cookie(ctx);
	return bpf_map_lookup_elem(&binaries, &id);
}

static __always_inline int read_goid(const struct go_offsets *off, __u64 g, __u64 *goid)
{
	if (bpf_probe_read_user(goid, sizeof(*goid), (void *)(g + off->g_goid))) {
		count(STAT_READ_FAILED);
		return -1;
	}
	return 0;
}

/* Who runs the probed Go function: its binary, its thread, its goroutine. */
struct running {
	struct go_offsets *off;
	__u64 pid_tgid;
	__u32 binary_id;
	struct goroutine_key key;
};

/* Fills r for the goroutine running this Go function (g is in R14); 0 on success. */
static __always_inline int running_goroutine(struct pt_regs *ctx, struct running *r)
{
	r->binary_id = (__u32)bpf_get_attach_cookie(ctx);
	r->off = bpf_map_lookup_elem(&binaries, &r->binary_id);
	if (!r->off)
		return -1;
	r->pid_tgid = bpf_get_current_pid_tgid();
	r->key.tgid = r->pid_tgid >> 32;
	r->key._pad = 0;
	return read_goid(r->off, GO_G(ctx), &r->key.goid);
}

static __always_inline void fill_header(struct event_header *h, __u32 kind, __u64 pid_tgid,
					__u32 binary_id, __u64 goid)
{
	h->kind = kind;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->binary_id = binary_id;
	h->goid = goid;
	h->time_ns = bpf_ktime_get_ns();
}

/* Copies a Go string into buf (at most max bytes); returns its full length. */
static __always_inline __u32 read_go_string(char *buf, __u32 max, const void *addr)
{
	struct go_string s;
	if (bpf_probe_read_user(&s, sizeof(s), addr) || s.len <= 0 || !s.ptr)
		return 0;
	__u32 n = s.len > max ? max : (__u32)s.len;
	barrier_var(n);
	if (n > max)
		return 0;
	if (bpf_probe_read_user(buf, n, s.ptr)) {
		count(STAT_READ_FAILED);
		return 0;
	}
	return s.len > 0xffffffff ? 0xffffffff : (__u32)s.len;
}

static __always_inline void random_bytes(__u8 *buf, int n)
{
	for (int i = 0; i < n; i += 4) {
		__u32 r = bpf_get_prandom_u32();
		__builtin_memcpy(buf + i, &r, 4);
	}
}

/* ---- W3C traceparent --------------------------------------------------- */

#define TRACEPARENT_LEN 55

static __always_inline int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is invalid in traceparent */
}

static __always_inline int parse_hex(const char *s, __u8 *out, int nbytes)
{
	__u8 any = 0;
	for (int i = 0; i < nbytes; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (hi << 4) | lo;
		any |= out[i];
	}
	return any ? 0 : -1; /* all-zero IDs are invalid */
}

struct parsed_parent {
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 flags;
};

/* version "-" trace-id "-" parent-id "-" flags; version ff is invalid. */
static __always_inline int parse_traceparent(const char *s, __s64 len, struct parsed_parent *p)
{
	if (len < TRACEPARENT_LEN || s[2] != '-' || s[35] != '-' || s[52] != '-')
		return -1;
	int v1 = hex_value(s[0]), v2 = hex_value(s[1]);
	if (v1 < 0 || v2 < 0 || (v1 == 15 && v2 == 15))
		return -1;
	if (v1 == 0 && v2 == 0 && len != TRACEPARENT_LEN)
		return -1;
	if (parse_hex(s + 3, p->trace_id, 16) || parse_hex(s + 36, p->span_id, 8))
		return -1;
	int f1 = hex_value(s[53]), f2 = hex_value(s[54]);
	if (f1 < 0 || f2 < 0)
		return -1;
	p->flags = (f1 << 4) | f2;
	return 0;
}

/* ---- http.Header lookup: map[string][]string ----------------------------- */

#define KEY_SIZE 16  /* string */
#define ELEM_SIZE 24 /* []string */

/* Swiss tables (Go 1.24+): a group is a control word and 8 key/elem slots. */
#define SWISS_SLOTS 8
#define SWISS_SLOT_SIZE (KEY_SIZE + ELEM_SIZE)
#define SWISS_GROUP_SIZE (8 + SWISS_SLOTS * SWISS_SLOT_SIZE)
#define SWISS_MAX_TABLES 8
#define SWISS_MAX_GROUPS 16

/* Buckets (Go <= 1.23): tophash[8], keys[8], elems[8], overflow pointer. */
#define BUCKET_SLOTS 8
#define BUCKET_KEYS 8
#define BUCKET_ELEMS (BUCKET_KEYS + BUCKET_SLOTS * KEY_SIZE)
#define BUCKET_OVERFLOW (BUCKET_ELEMS + BUCKET_SLOTS * ELEM_SIZE)
#define BUCKET_SIZE (BUCKET_OVERFLOW + 8)
#define BUCKET_MIN_TOPHASH 5 /* below: empty or evacuated */
#define BUCKETS_MAX_B 4
#define BUCKETS_MAX_CHAIN 2

/* Is the string at addr the canonical header key "Traceparent"? */
static __always_inline int is_traceparent_key(const void *addr)
{
	struct go_string k;
	if (bpf_probe_read_user(&k, sizeof(k), addr) || k.len != 11)
		return 0;
	char b[11];
	if (bpf_probe_read_user(b, sizeof(b), k.ptr))
		return 0;
	return b[0] == 'T' && b[1] == 'r' && b[2] == 'a' && b[3] == 'c' && b[4] == 'e' &&
	       b[5] == 'p' && b[6] == 'a' && b[7] == 'r' && b[8] == 'e' && b[9] == 'n' &&
	       b[10] == 't';
}

/* The address of the []string of the Traceparent key in a swiss group, or 0. */
static __always_inline __u64 swiss_group_find(__u64 group)
{
	__u64 ctrl;
	if (bpf_probe_read_user(&ctrl, sizeof(ctrl), (void *)group))
		return 0;
	for (int i = 0; i < SWISS_SLOTS; i++) {
		if ((ctrl >> (8 * i)) & 0x80) /* empty or deleted */
			continue;
		__u64 slot = group + 8 + i * SWISS_SLOT_SIZE;
		if (is_traceparent_key((void *)slot))
			return slot + KEY_SIZE;
	}
	return 0;
}

static __always_inline __u64 swiss_find(const struct go_offsets *off, __u64 m)
{
	__u64 dir_ptr, dir_len;
	if (bpf_probe_read_user(&dir_ptr, 8, (void *)(m + off->swiss_dir_ptr)) ||
	    bpf_probe_read_user(&dir_len, 8, (void *)(m + off->swiss_dir_len)) || !dir_ptr)
		return 0;
	if (dir_len == 0) /* a small map: dirPtr is its only group */
		return swiss_group_find(dir_ptr);
	for (int t = 0; t < SWISS_MAX_TABLES && t < dir_len; t++) {
		__u64 table, groups, mask;
		if (bpf_probe_read_user(&table, 8, (void *)(dir_ptr + 8 * t)) || !table ||
		    bpf_probe_read_user(&groups, 8, (void *)(table + off->swiss_table_groups)) ||
		    bpf_probe_read_user(&mask, 8, (void *)(table + off->swiss_table_groups + 8)))
			return 0;
		for (int g = 0; g < SWISS_MAX_GROUPS && g <= mask; g++) {
			__u64 found = swiss_group_find(groups + g * SWISS_GROUP_SIZE);
			if (found)
				return found;
		}
	}
	return 0;
}

static __always_inline __u64 bucket_find(__u64 bucket)
{
	for (int c = 0; c < BUCKETS_MAX_CHAIN && bucket; c++) {
		__u8 tophash[BUCKET_SLOTS];
		if (bpf_probe_read_user(tophash, sizeof(tophash), (void *)bucket))
			return 0;
		for (int i = 0; i < BUCKET_SLOTS; i++) {
			if (tophash[i] < BUCKET_MIN_TOPHASH)
				continue;
			if (is_traceparent_key((void *)(bucket + BUCKET_KEYS + i * KEY_SIZE)))
				return bucket + BUCKET_ELEMS + i * ELEM_SIZE;
		}
		if (bpf_probe_read_user(&bucket, 8, (void *)(bucket + BUCKET_OVERFLOW)))
			return 0;
	}
	return 0;
}

static __always_inline __u64 buckets_find(const struct go_offsets *off, __u64 m)
{
	__u8 b;
	__u64 buckets, old;
	if (bpf_probe_read_user(&b, 1, (void *)(m + off->hmap_b)) ||
	    bpf_probe_read_user(&buckets, 8, (void *)(m + off->hmap_buckets)) ||
	    bpf_probe_read_user(&old, 8, (void *)(m + off->hmap_oldbuckets)))
		return 0;
	if (b > BUCKETS_MAX_B)
		return 0;
	for (int i = 0; i < (1 << BUCKETS_MAX_B) && i < (1 << b); i++) {
		__u64 found = bucket_find(buckets + i * BUCKET_SIZE);
		if (found)
			return found;
	}
	/* While the map grows, entries not yet moved stay in the old buckets. */
	for (int i = 0; old && b > 0 && i < (1 << (BUCKETS_MAX_B - 1)) && i < (1 << (b - 1)); i++) {
		__u64 found = bucket_find(old + i * BUCKET_SIZE);
		if (found)
			return found;
	}
	return 0;
}

/* Reads req.Header["Traceparent"][0] and parses it. */
static __always_inline int read_traceparent(const struct go_offsets *off, __u64 req,
					    struct parsed_parent *p)
{
	if (!(off->features & FEAT_TRACEPARENT))
		return -1;
	__u64 m;
	if (bpf_probe_read_user(&m, 8, (void *)(req + off->request_header)) || !m)
		return -1;
	__u64 values = off->map_layout == MAP_LAYOUT_SWISS ? swiss_find(off, m)
							   : buckets_find(off, m);
	if (!values)
		return -1;
	struct go_slice vs;
	struct go_string v;
	if (bpf_probe_read_user(&vs, sizeof(vs), (void *)values) || vs.len < 1 ||
	    bpf_probe_read_user(&v, sizeof(v), vs.ptr) || v.len < TRACEPARENT_LEN)
		return -1;
	char s[TRACEPARENT_LEN + 1] = {};
	if (bpf_probe_read_user(s, sizeof(s) - 1, v.ptr))
		return -1;
	if (v.len > TRACEPARENT_LEN && bpf_probe_read_user(&s[TRACEPARENT_LEN], 1,
							   v.ptr + TRACEPARENT_LEN))
		return -1;
	if (v.len > TRACEPARENT_LEN && s[TRACEPARENT_LEN] != '-')
		return -1;
	return parse_traceparent(s, v.len, p);
}

/* ---- goroutine switches -------------------------------------------------- */

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
	struct goroutine_key key = {.tgid = pid_tgid >> 32};
	if (read_goid(off, GO_PARAM1(ctx), &key.goid))
		return 0;
	struct trace_context *tc = bpf_map_lookup_elem(&goroutine_ctx, &key);
	if (tc)
		bpf_map_update_elem(&traces_ctx_v1, &pid_tgid, tc, BPF_ANY);
	else
		bpf_map_delete_elem(&traces_ctx_v1, &pid_tgid);
	return 0;
}

/*
 * runtime.schedule(): the thread stopped running a goroutine and looks for
 * the next one (on g0: scheduler, GC and idle work). Nothing runs a span
 * here, so the thread's entry goes until execute sets the next one.
 */
SEC("uprobe")
int go_schedule(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&traces_ctx_v1, &pid_tgid);
	return 0;
}

/* ---- spans ------------------------------------------------------------------ */

/* Ends the goroutine's open server span: its previous context comes back. */
static __always_inline void close_span(struct goroutine_key *key, struct server_span *span,
				       __u64 pid_tgid)
{
	if (span->has_prev) {
		bpf_map_update_elem(&goroutine_ctx, key, &span->prev, BPF_ANY);
		bpf_map_update_elem(&traces_ctx_v1, &pid_tgid, &span->prev, BPF_ANY);
	} else {
		bpf_map_delete_elem(&goroutine_ctx, key);
		bpf_map_delete_elem(&traces_ctx_v1, &pid_tgid);
	}
	bpf_map_delete_elem(&server_spans, key);
}

static __always_inline void emit_end(const struct running *r, struct server_span *span,
				     __s64 status, __u32 reason, __u64 req)
{
	struct span_end_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_FULL);
		return;
	}
	fill_header(&e->header, EVENT_SPAN_END, r->pid_tgid, r->binary_id, r->key.goid);
	__builtin_memcpy(e->trace_id, span->ctx.trace_id, 16);
	__builtin_memcpy(e->span_id, span->ctx.span_id, 8);
	e->status = status;
	e->reason = reason;
	e->route_len = 0;
	if (req && (r->off->features & FEAT_ROUTE))
		e->route_len = read_go_string(e->route, ROUTE_MAX, (void *)(req + r->off->request_pattern));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
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
	struct server_span *open = bpf_map_lookup_elem(&server_spans, &r.key);
	if (open && open->req == req)
		return 0; /* the function restarted after its stack grew */

	struct span_start_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_FULL);
		return 0;
	}
	fill_header(&e->header, EVENT_SPAN_START, r.pid_tgid, r.binary_id, r.key.goid);
	e->span_kind = SPAN_KIND_SERVER;

	struct parsed_parent parent;
	if (read_traceparent(r.off, req, &parent) == 0) {
		__builtin_memcpy(e->trace_id, parent.trace_id, 16);
		__builtin_memcpy(e->parent_span_id, parent.span_id, 8);
		e->trace_flags = parent.flags;
	} else {
		random_bytes(e->trace_id, 16);
		__builtin_memset(e->parent_span_id, 0, 8);
		e->trace_flags = 1; /* sampled: braid records every span it makes */
	}
	random_bytes(e->span_id, 8);

	e->method_len = read_go_string(e->method, METHOD_MAX, (void *)(req + r.off->request_method));
	__u64 url = 0;
	e->path_len = 0;
	if (!bpf_probe_read_user(&url, sizeof(url), (void *)(req + r.off->request_url)) && url)
		e->path_len = read_go_string(e->path, PATH_MAX_LEN, (void *)(url + r.off->url_path));

	struct server_span span = {.req = req};
	__builtin_memcpy(span.ctx.trace_id, e->trace_id, 16);
	__builtin_memcpy(span.ctx.span_id, e->span_id, 8);
	struct trace_context *prev = bpf_map_lookup_elem(&goroutine_ctx, &r.key);
	if (prev) {
		span.prev = *prev;
		span.has_prev = 1;
	}
	if (bpf_map_update_elem(&server_spans, &r.key, &span, BPF_ANY) ||
	    bpf_map_update_elem(&goroutine_ctx, &r.key, &span.ctx, BPF_ANY)) {
		count(STAT_GOROUTINE_MAP_FULL);
		bpf_map_delete_elem(&server_spans, &r.key);
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	bpf_map_update_elem(&traces_ctx_v1, &r.pid_tgid, &span.ctx, BPF_ANY);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/*
 * net/http.(*response).finishRequest(w): runs right after the handler
 * returns, on the same goroutine; an entry probe here replaces a return
 * probe on ServeHTTP (return probes crash Go programs).
 */
SEC("uprobe")
int http_server_end(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r))
		return 0;
	struct server_span *span = bpf_map_lookup_elem(&server_spans, &r.key);
	if (!span)
		return 0;
	__u64 w = GO_PARAM1(ctx);
	__s64 status = 0;
	__u64 req = 0;
	bpf_probe_read_user(&status, sizeof(status), (void *)(w + r.off->response_status));
	bpf_probe_read_user(&req, sizeof(req), (void *)(w + r.off->response_req));
	emit_end(&r, span, status, END_FINISHED, req);
	close_span(&r.key, span, r.pid_tgid);
	return 0;
}

/*
 * runtime.goexit1(): the goroutine is finished. A span still open on it
 * (its handler panicked, or the connection was hijacked) ends here, and the
 * goroutine's state goes with it.
 */
SEC("uprobe")
int go_goexit(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r))
		return 0;
	struct server_span *span = bpf_map_lookup_elem(&server_spans, &r.key);
	if (span) {
		emit_end(&r, span, 0, END_GOROUTINE_EXIT, 0);
		bpf_map_delete_elem(&server_spans, &r.key);
	}
	bpf_map_delete_elem(&goroutine_ctx, &r.key);
	bpf_map_delete_elem(&traces_ctx_v1, &r.pid_tgid);
	return 0;
}

/*
 * A thread exits: its entry must not outlive it (the kernel reuses tids).
 * tp_btf needs no tracefs mount; it runs in the exiting task.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(thread_exit, struct task_struct *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&traces_ctx_v1, &pid_tgid);
	return 0;
}

/*
 * Never called, never loaded: it puts the event layouts into the object's BTF
 * (clang records only the types of globals and functions), where a test
 * compares them with the Java decoders.
 */
__attribute__((used)) int layouts_of_tracer_events(struct event_header *h, struct span_start_event *s,
						struct span_end_event *e)
{
	return 0;
}
