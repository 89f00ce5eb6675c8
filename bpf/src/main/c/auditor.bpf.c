// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * The conformance suite's auditor: a perf_event program run by a CPU clock at
 * a high rate. Each sample of an audited Go process records the thread's
 * traces_ctx_v1 entry next to what the thread runs at that instant, read from
 * the Go runtime (TLS g, g.m, m.curg, goid) and from nothing a writer keeps,
 * so that user space can judge the entry against the requests' ground truth.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "traces_ctx_v1.h"
#include "sampler.h"
#include "perf_thread.h"
#include "auditor.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

TRACES_CTX_V1_MAP;

/* tgid -> where its goroutines are (struct sample_target; from_goroutine unused). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct sample_target);
} audit_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} audit_events SEC(".maps");

/* Samples lost because the ring buffer was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} audit_lost SEC(".maps");

static __always_inline __u32 running(const struct sample_target *t, __u64 *goid)
{
	__u64 g, m, curg;
	if (read_go_thread(t, &g, &m, &curg))
		return AUDIT_UNKNOWN;
	if (!curg) {
		/* m.g0 is struct m's first field in every Go release: the scheduler runs on it;
		 * any other g here is the signal handler's. */
		__u64 g0 = 0;
		bpf_probe_read_user(&g0, sizeof(g0), (void *)m);
		return g == g0 ? AUDIT_NO_GOROUTINE : AUDIT_SYSTEM_STACK;
	}
	if (bpf_probe_read_user(goid, sizeof(*goid), (void *)(curg + t->g_goid)))
		return AUDIT_UNKNOWN;
	return g == curg ? AUDIT_ON_GOROUTINE : AUDIT_SYSTEM_STACK;
}

SEC("perf_event")
int on_audit_sample(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct sample_target *target = bpf_map_lookup_elem(&audit_pids, &tgid);
	if (!target)
		return 0;
	/* The entry first: it is what a profiler's sample would have read. */
	struct trace_context *tc = bpf_map_lookup_elem(&traces_ctx_v1, &pid_tgid);
	struct audit_event *e = bpf_ringbuf_reserve(&audit_events, sizeof(*e), 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&audit_lost, &zero);
		if (n)
			(*n)++;
		return 0;
	}
	e->pid = tgid;
	e->tid = (__u32)pid_tgid;
	e->time_ns = bpf_ktime_get_ns();
	e->goid = 0;
	struct user_regs regs;
	read_user_regs(ctx, &regs);
	e->pc = regs.ip;
	e->caller = user_caller(&regs);
	if (tc) {
		e->context = *tc;
		e->has_context = 1;
	} else {
		__builtin_memset(&e->context, 0, sizeof(e->context));
		e->has_context = 0;
	}
	e->thread = running(target, &e->goid);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* Never called, never loaded: puts struct audit_event into the object's BTF for the layout test. */
__attribute__((used)) int layouts_of_audit_events(struct audit_event *a)
{
	return 0;
}
