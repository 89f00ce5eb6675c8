// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * --auto-sdk: braid is the SDK of programs that use the OpenTelemetry Go API
 * without registering one, through the hooks go.opentelemetry.io/auto/sdk
 * leaves for eBPF:
 *
 *   - otel/internal/global.(*tracer).newSpan(t, ctx, autoSpan *bool, ...):
 *     while *autoSpan is false the global tracer's spans are no-ops; braid
 *     asks user space, once per process, to set it (through /proc/PID/mem:
 *     kernels locked down for integrity refuse bpf_probe_write_user);
 *   - auto/sdk.(*tracer).start(t, ctx, span *span, psc, sampled, sc): the
 *     span starts; braid gives it a context (a child of the goroutine's
 *     running span) that it keeps by the span's address, and the span becomes
 *     the goroutine's context, as the SDK's recording spans do
 *     (app_span_life.h). The program's own view of it stays without IDs:
 *     nothing is written into it;
 *   - auto/sdk.(*span).End(s, ...): the goroutine moves on, before the span
 *     takes its end time and is serialized;
 *   - auto/sdk.(*span).ended(s, buf []byte): the span, serialized as
 *     OTLP/JSON, goes to braid with its context, and braid exports it.
 *
 * Loaded only with --auto-sdk, on the maps of tracer.bpf.o.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "traces_ctx_v1.h"
#include "go_abi.h"
#include "tracer.h"
#include "tracer_maps.h"
#include "app_span_life.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Where an api_span_event is put together: too large for the BPF stack. */
struct api_span_scratch {
	struct api_span_event event;
	__u64 busy;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct api_span_scratch);
} api_span_scratch SEC(".maps");

/* Processes whose switch braid was asked to turn on (its address), by tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} auto_sdk_asked SEC(".maps");

struct auto_span_key {
	__u32 tgid;
	__u32 _pad;
	__u64 span; /* the *span of go.opentelemetry.io/auto/sdk */
};

/* What braid knows of an auto/sdk span it gave a context, from its start to ended(). */
struct auto_span {
	struct trace_context ctx;
	__u8 parent_span_id[8]; /* all zero: a root span */
	__u64 start_ns;
	__u8 ended; /* End ran: its goroutine moved on */
	__u8 _pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct auto_span_key);
	__type(value, struct auto_span);
} auto_spans SEC(".maps");

SEC("uprobe")
int auto_sdk_switch(struct pt_regs *ctx)
{
	struct go_offsets *off = offsets_of(ctx);
	if (!off || !(off->features & FEAT_AUTO_SDK))
		return 0;
	__u64 flag = GO_PARAM4(ctx);
	__u8 on = 0;
	if (!flag || bpf_probe_read_user(&on, sizeof(on), (void *)flag))
		return 0;
	if (!on)
		count(STAT_AUTO_SDK_MISSED); /* this span stays a no-op */
	/* Once per process, even when on (a braid killed earlier left it so): user space learns where it is, to turn it off at the end. */
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_map_update_elem(&auto_sdk_asked, &tgid, &flag, BPF_NOEXIST))
		return 0; /* asked already */
	struct auto_sdk_switch_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_FULL);
		bpf_map_delete_elem(&auto_sdk_asked, &tgid); /* ask again at the next span */
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->header.kind = EVENT_AUTO_SDK_SWITCH;
	e->header.pid = tgid;
	e->header.tid = (__u32)bpf_get_current_pid_tgid();
	e->header.binary_id = (__u32)bpf_get_attach_cookie(ctx);
	e->header.time_ns = bpf_ktime_get_ns();
	e->flag = flag;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("uprobe")
int auto_span_start(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_AUTO_SDK))
		return 0;
	struct auto_span_key key = {.tgid = r.key.tgid, .span = GO_PARAM4(ctx)};
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &r.key);
	struct auto_span *known = bpf_map_lookup_elem(&auto_spans, &key);
	if (known && !known->ended && g && g->has_ctx && g->ctx_app && same_span_id(g->ctx.span_id, known->ctx.span_id))
		return 0; /* the probe fired again: the function restarted at its entry after growing its stack */
	if (g)
		settle_app_context(r.key.tgid, g); /* its span may have ended on another goroutine */
	struct auto_span span = {.start_ns = bpf_ktime_get_ns()};
	if (g && g->has_ctx) {
		__builtin_memcpy(span.ctx.trace_id, g->ctx.trace_id, 16);
		__builtin_memcpy(span.parent_span_id, g->ctx.span_id, 8);
	} else {
		random_bytes(span.ctx.trace_id, 16);
	}
	random_bytes(span.ctx.span_id, 8);
	if (bpf_map_update_elem(&auto_spans, &key, &span, BPF_ANY)) {
		count(STAT_APP_SPANS_FULL);
		return 0;
	}
	app_span_starts(&r, g, &span.ctx);
	return 0;
}

/* The span ends: its goroutine (and its thread) move on before it takes its end time. */
static __always_inline void auto_span_ends(const struct running *r, struct auto_span *span)
{
	if (span->ended)
		return;
	span->ended = 1;
	struct trace_context ended = span->ctx;
	struct app_span *app = app_span_ending(r, &ended);
	if (app)
		app_span_ended(r, app, &ended);
}

/* go.opentelemetry.io/auto/sdk.(*span).End(s, options...): s in RAX. */
SEC("uprobe")
int auto_span_end(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_AUTO_SDK))
		return 0;
	struct auto_span_key key = {.tgid = r.key.tgid, .span = GO_PARAM1(ctx)};
	struct auto_span *span = bpf_map_lookup_elem(&auto_spans, &key);
	if (span)
		auto_span_ends(&r, span);
	return 0;
}

/*
 * go.opentelemetry.io/auto/sdk.(*span).ended(s, buf []byte): s in RAX, buf in
 * RBX, RCX. End serialized the span: it goes to user space, with its context.
 */
SEC("uprobe")
int auto_span_ended(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_AUTO_SDK))
		return 0;
	struct auto_span_key key = {.tgid = r.key.tgid, .span = GO_PARAM1(ctx)};
	struct auto_span *known = bpf_map_lookup_elem(&auto_spans, &key);
	if (!known) {
		/* it started before braid gave it a context, the LRU forgot it, or the probe fired again after the stack grew */
		count(STAT_AUTO_SDK_UNKNOWN);
		return 0;
	}
	auto_span_ends(&r, known); /* in case End's probe missed it */
	struct auto_span span = *known;
	bpf_map_delete_elem(&auto_spans, &key);
	__u32 zero = 0;
	struct api_span_scratch *scratch = bpf_map_lookup_elem(&api_span_scratch, &zero);
	if (!scratch)
		return 0;
	/* Preemptible kernels may run another thread's probe on this CPU meanwhile: one writer at a time. */
	if (__sync_lock_test_and_set(&scratch->busy, 1)) {
		count(STAT_AUTO_SDK_LOST);
		return 0;
	}
	struct api_span_event *e = &scratch->event;
	fill_header(&e->header, EVENT_API_SPAN, &r);
	e->span = span.ctx;
	__builtin_memcpy(e->parent_span_id, span.parent_span_id, 8);
	e->start_ns = span.start_ns;
	__s64 size = GO_PARAM3(ctx);
	__u32 len = 0;
	if (size > 0)
		len = size > API_SPAN_JSON_MAX ? API_SPAN_JSON_MAX : (__u32)size;
	e->json_size = size > 0 ? (__u32)size : 0;
	__u64 copied = 0;
	if (len > 0 && len <= API_SPAN_JSON_MAX && !bpf_probe_read_user(e->json, len, (void *)GO_PARAM2(ctx)))
		copied = len;
	e->json_len = copied;
	__u64 record = offsetof(struct api_span_event, json) + copied; /* 64-bit: the bound checked is the one passed */
	if (record <= sizeof(*e) && bpf_ringbuf_output(&events, e, record, 0))
		count(STAT_RINGBUF_FULL);
	scratch->busy = 0; /* a plain store: only this CPU's probes use it */
	return 0;
}
