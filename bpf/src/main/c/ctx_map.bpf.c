// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * traces_ctx_v1 alone, with its BTF: what a writer without programs of its
 * own (the conformance suite's reference writer) loads to create the pin.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "traces_ctx_v1.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

TRACES_CTX_V1_MAP;
