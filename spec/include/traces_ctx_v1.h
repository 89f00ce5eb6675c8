/* SPDX-License-Identifier: Apache-2.0 */
/*
 * traces_ctx_v1: the per-thread trace context map of OTEP 4855.
 *
 * This header is the one definition of the map's value. Writers and readers,
 * in the kernel and in user space, must agree on it byte for byte; see
 * spec/traces_ctx_v1.md for the rules that go with it.
 */
#ifndef TRACES_CTX_V1_H
#define TRACES_CTX_V1_H

/* Pinned at $PINPATH/otel/traces_ctx_v1 ($PINPATH defaults to /sys/fs/bpf). */
#define TRACES_CTX_V1_NAME "traces_ctx_v1"
#define TRACES_CTX_V1_MAX_ENTRIES (1 << 14)

/*
 * Key: the u64 returned by bpf_get_current_pid_tgid() in the root PID
 * namespace (tgid << 32 | tid). Value: the trace and span the thread is
 * running right now, raw bytes in W3C order. 24 bytes, no padding, no
 * version field: later versions get a new map name and may only append.
 */
struct trace_context {
	__u8 trace_id[16];
	__u8 span_id[8];
};

/* The map as a libbpf BTF-defined map; include after the BPF headers. */
#define TRACES_CTX_V1_MAP                                    \
	struct {                                             \
		__uint(type, BPF_MAP_TYPE_LRU_HASH);         \
		__uint(max_entries, TRACES_CTX_V1_MAX_ENTRIES); \
		__type(key, __u64);                          \
		__type(value, struct trace_context);         \
	} traces_ctx_v1 SEC(".maps")

#endif /* TRACES_CTX_V1_H */
