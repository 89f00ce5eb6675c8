// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * The reader: a perf_event program run by a CPU clock on every CPU. Each
 * sample takes the thread's user and kernel stacks and stamps them with the
 * thread's traces_ctx_v1 entry, looked up at sample time as the contract says.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "traces_ctx_v1.h"
#include "goroutine.h"
#include "sampler.h"
#include "perf_thread.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

TRACES_CTX_V1_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct sample_target);
} sample_pids SEC(".maps");

/* The tracer's, with --ctx-source sample; otherwise a placeholder of one entry. */
GOROUTINES_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sampler_config);
} sampler_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SAMPLER_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} sampler_stats SEC(".maps");

/*
 * The context of the goroutine the sampled thread runs: g from the thread's
 * TLS slot, then g.m.curg (the user goroutine even when the sample hit g0's
 * or the signal stack), its goid, its entry in the tracer's goroutines map.
 * NULL on the scheduler (no curg) or for a goroutine without context.
 */
static __always_inline struct trace_context *running_goroutine_context(const struct sample_target *t, __u32 tgid)
{
	__u64 g, m, curg;
	struct goroutine_key key = {.tgid = tgid};
	if (read_go_thread(t, &g, &m, &curg)) {
		__u32 stat = SAMPLER_STAT_GOROUTINE_READ_FAILED;
		__u64 *n = bpf_map_lookup_elem(&sampler_stats, &stat);
		if (n)
			(*n)++;
		return 0;
	}
	if (!curg || bpf_probe_read_user(&key.goid, sizeof(key.goid), (void *)(curg + t->g_goid)))
		return 0;
	struct goroutine *gs = bpf_map_lookup_elem(&goroutines, &key);
	return gs && gs->has_ctx ? &gs->ctx : 0;
}

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	if (tgid == 0)
		return 0; /* idle */
	__u32 zero = 0;
	struct sampler_config *cfg = bpf_map_lookup_elem(&sampler_config, &zero);
	struct sample_target *target = bpf_map_lookup_elem(&sample_pids, &tgid);
	if (!cfg || (!cfg->all_processes && !target))
		return 0;

	struct sample_event *e = bpf_ringbuf_reserve(&samples, sizeof(*e), 0);
	if (!e) {
		__u64 *n = bpf_map_lookup_elem(&sampler_stats, &zero);
		if (n)
			(*n)++;
		return 0;
	}
	e->pid = tgid;
	e->tid = (__u32)pid_tgid;
	e->time_ns = bpf_ktime_get_ns();
	e->cpu = bpf_get_smp_processor_id();
	struct trace_context *tc = target && target->from_goroutine ? running_goroutine_context(target, tgid)
								     : bpf_map_lookup_elem(&traces_ctx_v1, &pid_tgid);
	if (tc) {
		e->context = *tc;
		e->has_context = 1;
	} else {
		__builtin_memset(&e->context, 0, sizeof(e->context));
		e->has_context = 0;
	}
	struct user_regs regs;
	read_user_regs(ctx, &regs);
	e->user_sp_word = 0;
	bpf_probe_read_user(&e->user_sp_word, sizeof(e->user_sp_word), (void *)regs.sp);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->user_len = bpf_get_stack(ctx, e->user_stack, sizeof(e->user_stack), BPF_F_USER_STACK);
	e->kernel_len = bpf_get_stack(ctx, e->kernel_stack, sizeof(e->kernel_stack), 0);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* Never called, never loaded: puts struct sample_event into the object's BTF for the layout test. */
__attribute__((used)) int layouts_of_sampler_events(struct sample_event *s)
{
	return 0;
}
