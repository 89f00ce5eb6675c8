// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* The cheapest program a uprobe can run: what is left is the trap itself. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("uprobe")
int noop(void *ctx)
{
	return 0;
}
