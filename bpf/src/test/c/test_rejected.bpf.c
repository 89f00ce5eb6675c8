// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Test object: the verifier must reject it (a map value used without a NULL check). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} m SEC(".maps");

SEC("tp_btf/sys_enter")
int unchecked(void *ctx)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&m, &zero);
	return *v;
}
