/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * An application span's start and end (app_spans.h), for each way braid
 * learns of them: the OpenTelemetry Go SDK's recording spans (tracer.bpf.c)
 * and, with --auto-sdk, the spans braid makes for the API (auto_sdk.bpf.c).
 */
#ifndef BRAID_APP_SPAN_LIFE_H
#define BRAID_APP_SPAN_LIFE_H

/*
 * A sampled application span `now` starts on the running goroutine, whose
 * state the caller looked up (g, NULL when it has none): it becomes the
 * goroutine's context. 0 when it did not.
 */
static __always_inline int app_span_starts(const struct running *r, struct goroutine *g, const struct trace_context *now)
{
	if (g && g->has_ctx && g->ctx_app && same_span_id(g->ctx.span_id, now->span_id))
		return 0; /* the probe fired again: the function restarted at its entry after growing its stack */
	struct app_span span = {.goid = r->key.goid, .start_ns = bpf_ktime_get_ns()};
	if (g && g->has_ctx) {
		span.prev = g->ctx;
		span.has_prev = 1;
		span.prev_app = g->ctx_app;
	}
	struct app_span_key key = app_span_key(r->key.tgid, now->span_id);
	if (bpf_map_update_elem(&app_spans, &key, &span, BPF_ANY)) {
		count(STAT_APP_SPANS_FULL);
		return 0;
	}
	if (g) {
		g->ctx = *now;
		g->has_ctx = 1;
		g->ctx_app = 1;
	} else {
		struct goroutine fresh = {.ctx = *now, .has_ctx = 1, .ctx_app = 1, .tid = (__u32)r->pid_tgid};
		if (bpf_map_update_elem(&goroutines, &r->key, &fresh, BPF_ANY)) {
			count(STAT_APP_SPANS_FULL);
			bpf_map_delete_elem(&app_spans, &key);
			return 0;
		}
	}
	if (r->off->features & FEAT_CTX_MAP)
		show(r->pid_tgid, now);
	return 1;
}

/*
 * The end of an application span that app_spans no longer holds (the LRU let
 * it go while it lasted): if the goroutine ending it still shows it, it shows
 * braid's innermost open span instead, or nothing; never the ended one.
 */
static __always_inline void forgotten_app_span_ends(const struct running *r, const struct trace_context *ended)
{
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r->key);
	if (!g || !g->has_ctx || !g->ctx_app || !same_span_id(g->ctx.span_id, ended->span_id))
		return;
	g->ctx_app = 0;
	if (g->client.req)
		g->ctx = g->client.ctx;
	else if (g->server.req)
		g->ctx = g->server.ctx;
	else
		g->has_ctx = 0;
	if (r->off->features & FEAT_CTX_MAP)
		show(r->pid_tgid, g->has_ctx ? &g->ctx : 0);
	drop_if_empty(r, g);
}

/*
 * Application span `ended` ends, on the running goroutine: its app_spans
 * entry, marked ended; NULL when braid does not know it (not sampled,
 * started before braid, or forgotten) or it ended already.
 */
static __always_inline struct app_span *app_span_ending(const struct running *r, const struct trace_context *ended)
{
	struct app_span_key key = app_span_key(r->key.tgid, ended->span_id);
	struct app_span *span = bpf_map_lookup_elem(&app_spans, &key);
	if (!span) {
		forgotten_app_span_ends(r, ended);
		return 0; /* not sampled, started before braid, or forgotten */
	}
	if (span->ended)
		return 0; /* ended twice */
	span->ended = 1;
	return span;
}

/*
 * After app_span_ending: the goroutine that started it, if it still shows it,
 * goes back to the innermost open context before it; so does the thread that
 * runs that goroutine right now, before the application takes the end time.
 */
static __always_inline void app_span_ended(const struct running *r, const struct app_span *span, const struct trace_context *ended)
{
	struct goroutine_key owner = {.tgid = r->key.tgid, .goid = span->goid};
	/* The goroutine ending it moves on now, if it shows it (its own span, or one it inherited). */
	struct goroutine *self = bpf_map_lookup_elem(&goroutines, &r->key);
	if (self && settle_app_context(r->key.tgid, self)) {
		if (r->off->features & FEAT_CTX_MAP)
			show(r->pid_tgid, self->has_ctx ? &self->ctx : 0);
		drop_if_empty(r, self);
	}
	if (owner.goid == r->key.goid)
		return;
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &owner);
	if (!g || !g->has_ctx || !same_span_id(g->ctx.span_id, ended->span_id))
		return; /* it shows another span now (one started later), or none */
	settle_app_context(owner.tgid, g);
	if ((r->off->features & FEAT_CTX_MAP) && g->tid) {
		/* The owner may be running on its thread now: that thread shows what it shows now. */
		__u64 thread = ((__u64)owner.tgid << 32) | g->tid;
		struct trace_context *shown = bpf_map_lookup_elem(&traces_ctx_v1, &thread);
		if (shown && same_span_id(shown->span_id, ended->span_id)) {
			/* Refused, not gone: never the ended span. */
			if (!g->has_ctx || refused(bpf_map_update_elem(&traces_ctx_v1, &thread, &g->ctx, BPF_EXIST)))
				hide(thread);
		}
	}
	if (goroutine_is_empty(g))
		bpf_map_delete_elem(&goroutines, &owner);
}

#endif /* BRAID_APP_SPAN_LIFE_H */
