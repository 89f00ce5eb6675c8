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
	struct trace_context context; /* the thread's traces_ctx_v1 entry, if any */
	char comm[COMM_LEN];
	__u64 user_stack[MAX_STACK_DEPTH];
	__u64 kernel_stack[MAX_STACK_DEPTH];
};

struct sampler_config {
	__u32 all_processes; /* 0: only the tgids in sample_pids */
};

/* Counters in the per-CPU array "sampler_stats". */
#define SAMPLER_STAT_RINGBUF_FULL 0
#define SAMPLER_STAT_COUNT 1

#endif /* BRAID_SAMPLER_H */
