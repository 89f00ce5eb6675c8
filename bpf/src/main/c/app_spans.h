/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * The application's own spans (the OpenTelemetry Go SDK's recording spans):
 * while one is open on a goroutine, and innermost there, the goroutine's
 * context is that span, so traces_ctx_v1 and the samples name what the
 * application exports. Each span remembers the context it covered; when it
 * ends (on any goroutine), its goroutine goes back to the innermost of those
 * that is still open.
 */
#ifndef BRAID_APP_SPANS_H
#define BRAID_APP_SPANS_H

#define APP_CHAIN_MAX 8 /* ended predecessors skipped, at most, to find an open one */

/* The first bytes of a go.opentelemetry.io/otel/trace.SpanContext (the resolver checks this layout). */
struct sdk_span_context {
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 trace_flags;
}; /* ended predecessors skipped, at most, to find an open one */

struct app_span_key {
	__u32 tgid;
	__u32 _pad;
	__u64 span_id; /* its 8 bytes as they are */
};

struct app_span {
	struct trace_context prev; /* the goroutine's context when the span started */
	__u64 goid;                /* the goroutine that started it */
	__u8 has_prev;
	__u8 prev_app;             /* prev is an application span too */
	__u8 ended;
	__u8 _pad[5];
	__u64 start_ns;            /* when it started (bpf_ktime_get_ns) */
};

/*
 * Application spans that are open, or ended recently (kept, marked, for the
 * walk below; the LRU forgets the oldest).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct app_span_key);
	__type(value, struct app_span);
} app_spans SEC(".maps");

static __always_inline struct app_span_key app_span_key(__u32 tgid, const __u8 span_id[8])
{
	struct app_span_key k = {.tgid = tgid};
	__builtin_memcpy(&k.span_id, span_id, 8);
	return k;
}

static __always_inline int same_span_id(const __u8 a[8], const __u8 b[8])
{
	__u64 x, y;
	__builtin_memcpy(&x, a, 8);
	__builtin_memcpy(&y, b, 8);
	return x == y;
}

/*
 * What a goroutine whose context was an application span shows now that the
 * span ended: the innermost context before it that has not ended. 1 and *out
 * when there is one, 0 when none (*app: whether *out is an application span).
 * A predecessor the map forgot counts as open.
 */
static __always_inline int open_before(__u32 tgid, const struct app_span *s, struct trace_context *out, __u8 *app)
{
	struct trace_context cur = s->prev;
	__u8 has = s->has_prev, is_app = s->prev_app;
	for (int i = 0; i < APP_CHAIN_MAX && has && is_app; i++) {
		struct app_span_key k = app_span_key(tgid, cur.span_id);
		struct app_span *p = bpf_map_lookup_elem(&app_spans, &k);
		if (!p || !p->ended)
			break;
		cur = p->prev;
		has = p->has_prev;
		is_app = p->prev_app;
	}
	if (has) {
		*out = cur;
		*app = is_app;
	}
	return has;
}

/*
 * If g's context is an application span that has ended (on another
 * goroutine, or it was inherited), g's context becomes the innermost open one
 * before it. Whether it changed.
 */
static __always_inline int settle_app_context(__u32 tgid, struct goroutine *g)
{
	if (!g->has_ctx || !g->ctx_app)
		return 0;
	struct app_span_key k = app_span_key(tgid, g->ctx.span_id);
	struct app_span *s = bpf_map_lookup_elem(&app_spans, &k);
	if (!s || !s->ended)
		return 0;
	struct trace_context ctx;
	__u8 app = 0;
	if (open_before(tgid, s, &ctx, &app)) {
		g->ctx = ctx;
		g->ctx_app = app;
	} else {
		g->has_ctx = 0;
		g->ctx_app = 0;
	}
	return 1;
}

#endif /* BRAID_APP_SPANS_H */
