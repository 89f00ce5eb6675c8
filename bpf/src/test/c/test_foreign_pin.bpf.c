// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Test object: a map named traces_ctx_v1 with another layout, as a foreign writer might pin. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8[16]);
} traces_ctx_v1 SEC(".maps");
