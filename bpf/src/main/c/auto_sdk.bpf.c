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
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct api_span_event);
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

/* The context braid gave each open auto/sdk span, by its address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct auto_span_key);
	__type(value, struct trace_context);
} auto_spans SEC(".maps");

SEC("uprobe")
int auto_sdk_switch(struct pt_regs *ctx)
{
	struct go_offsets *off = offsets_of(ctx);
	if (!off || !(off->features & FEAT_AUTO_SDK))
		return 0;
	__u64 flag = GO_PARAM4(ctx);
	__u8 on = 0;
	if (!flag || bpf_probe_read_user(&on, sizeof(on), (void *)flag) || on)
		return 0;
	count(STAT_AUTO_SDK_MISSED); /* this span stays a no-op */
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
	struct trace_context *known = bpf_map_lookup_elem(&auto_spans, &key);
	if (known && g && g->has_ctx && g->ctx_app && same_span_id(g->ctx.span_id, known->span_id))
		return 0; /* the probe fired again: the function restarted at its entry after growing its stack */
	if (g)
		settle_app_context(r.key.tgid, g); /* its span may have ended on another goroutine */
	struct trace_context now;
	if (g && g->has_ctx)
		__builtin_memcpy(now.trace_id, g->ctx.trace_id, 16);
	else
		random_bytes(now.trace_id, 16);
	random_bytes(now.span_id, 8);
	if (bpf_map_update_elem(&auto_spans, &key, &now, BPF_ANY)) {
		count(STAT_APP_SPANS_FULL);
		return 0;
	}
	app_span_starts(&r, &now);
	return 0;
}

SEC("uprobe")
int auto_span_end(struct pt_regs *ctx)
{
	struct running r;
	if (running_goroutine(ctx, &r) || !(r.off->features & FEAT_AUTO_SDK))
		return 0;
	__u32 zero = 0;
	struct api_span_event *e = bpf_map_lookup_elem(&api_span_scratch, &zero);
	if (!e)
		return 0;
	struct auto_span_key key = {.tgid = r.key.tgid, .span = GO_PARAM1(ctx)};
	struct trace_context *known = bpf_map_lookup_elem(&auto_spans, &key);
	struct trace_context ended = {};
	int braids = known != 0;
	if (known) {
		ended = *known;
		bpf_map_delete_elem(&auto_spans, &key);
	}
	e->span = ended; /* all zero: it started before braid */
	__builtin_memset(e->parent_span_id, 0, 8);
	e->start_ns = 0;
	struct app_span *span = braids ? app_span_ending(&r, &ended) : 0;
	if (span) {
		if (span->has_prev)
			__builtin_memcpy(e->parent_span_id, span->prev.span_id, 8);
		e->start_ns = span->start_ns;
		app_span_ended(&r, span, &ended);
	}
	fill_header(&e->header, EVENT_API_SPAN, &r);
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
	if (record > sizeof(*e))
		return 0;
	if (bpf_ringbuf_output(&events, e, record, 0))
		count(STAT_RINGBUF_FULL);
	return 0;
}
