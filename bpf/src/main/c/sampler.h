/* SPDX-License-Identifier: Apache-2.0 */
/* Layouts shared by sampler.bpf.c and the Java decoder in profiler-adapter/. */
#ifndef BRAID_SAMPLER_H
#define BRAID_SAMPLER_H

#define MAX_STACK_DEPTH 127 /* the kernel's default perf_event_max_stack */
#define COMM_LEN 16

struct sample_event {
	__u32 pid;
	__u32 tid;
	__u64 time_ns; /* CLOCK_MONOTONIC */
	__u32 cpu;
	__s32 user_len;   /* bytes of user_stack, or a negative errno */
	__s32 kernel_len; /* bytes of kernel_stack, or a negative errno */
	__u32 has_context;
	struct trace_context context; /* the thread's traces_ctx_v1 entry (or goroutine's context), if any */
	__u64 user_sp_word; /* the word at the user stack pointer: a frameless leaf's return address */
	char comm[COMM_LEN];
	__u64 user_stack[MAX_STACK_DEPTH];
	__u64 kernel_stack[MAX_STACK_DEPTH];
};

struct sampler_config {
	__u32 all_processes; /* 0: only the tgids in sample_pids */
};

/*
 * A process in sample_pids. With from_goroutine (--ctx-source sample) its
 * samples take the context of the goroutine running at sample time, found
 * from the thread pointer (TLS g, g.m, m.curg, goid) in the tracer's
 * goroutines map; otherwise the thread's traces_ctx_v1 entry.
 */
struct sample_target {
	__u32 from_goroutine;
	__s32 tls_g; /* offset of the g pointer from the thread pointer (fsbase) */
	__u32 g_m;
	__u32 m_curg;
	__u32 g_goid;
	__u32 _pad;
};

/* Counters in the per-CPU array "sampler_stats". */
#define SAMPLER_STAT_RINGBUF_FULL 0
#define SAMPLER_STAT_GOROUTINE_READ_FAILED 1
#define SAMPLER_STAT_COUNT 2

#endif /* BRAID_SAMPLER_H */
