// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Test object: maps of known shapes, and a tracepoint that counts calls. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "traces_ctx_v1.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

TRACES_CTX_V1_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

#define NR_GETPID 39 /* x86-64 */

/* Counts getpid() calls of the tgid in target[0]. */
SEC("tp_btf/sys_enter")
int BPF_PROG(count_getpid, struct pt_regs *regs, long id)
{
	__u32 zero = 0;
	if (id != NR_GETPID)
		return 0;
	__u32 *tgid = bpf_map_lookup_elem(&target, &zero);
	if (!tgid || *tgid != bpf_get_current_pid_tgid() >> 32)
		return 0;
	__u64 *n = bpf_map_lookup_elem(&counters, &zero);
	if (n)
		(*n)++;
	return 0;
}

/* Counts calls by attach cookie: counters[cookie]. */
SEC("uprobe")
int count_calls(struct pt_regs *ctx)
{
	__u32 slot = (__u32)bpf_get_attach_cookie(ctx);
	__u64 *n = bpf_map_lookup_elem(&counters, &slot);
	if (n)
		(*n)++;
	return 0;
}
