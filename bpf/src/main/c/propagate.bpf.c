// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * --propagate: adds "Traceparent: 00-<trace>-<span>-<flags>\r\n" to the
 * outgoing HTTP/1.1 requests of client spans, in the kernel, as the request's
 * bytes are sent. Nothing in the process's memory changes (kernels locked
 * down for integrity forbid bpf_probe_write_user anyway): a sock_ops program
 * puts the client sockets of traced processes into a sockhash, and an sk_msg
 * program on that sockhash inserts the line after the request line when the
 * sending thread has a pending_sends entry whose request line matches.
 *
 * Loaded only with --propagate, using the maps of tracer.bpf.o.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "traces_ctx_v1.h"
#include "go_abi.h"
#include "tracer.h"
#include "tracer_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SK_PASS 1
#define REQUEST_LINE_MAX 1024
#define TRACEPARENT_LINE (13 + TRACEPARENT_LEN + 2) /* "Traceparent: " value "\r\n" */

/* Processes whose client sockets take part (user space keeps this). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} propagating_pids SEC(".maps");

/* Sockets that a traced process is connecting, by cookie: connect runs in
 * the process, but the connection is established in softirq context. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} connecting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} client_sockets SEC(".maps");

SEC("sockops")
int client_socket_ops(struct bpf_sock_ops *skops)
{
	__u64 cookie = bpf_get_socket_cookie(skops);
	if (skops->op == BPF_SOCK_OPS_TCP_CONNECT_CB) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		if (bpf_map_lookup_elem(&propagating_pids, &tgid)) {
			__u8 one = 1;
			bpf_map_update_elem(&connecting, &cookie, &one, BPF_ANY);
		}
	} else if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB) {
		if (bpf_map_lookup_elem(&connecting, &cookie)) {
			bpf_map_delete_elem(&connecting, &cookie);
			bpf_sock_hash_update(skops, &client_sockets, &cookie, BPF_NOEXIST);
		}
	}
	return 1;
}

SEC("sk_msg")
int add_traceparent(struct sk_msg_md *msg)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct pending_send *pending = bpf_map_lookup_elem(&pending_sends, &pid_tgid);
	if (!pending)
		return SK_PASS;
	struct pending_send p = *pending;
	bpf_map_delete_elem(&pending_sends, &pid_tgid);
	if (bpf_ktime_get_ns() - p.since_ns > PENDING_MAX_AGE_NS)
		return SK_PASS;

	__u32 size = msg->size < REQUEST_LINE_MAX ? msg->size : REQUEST_LINE_MAX;
	if (bpf_msg_pull_data(msg, 0, size, 0))
		return SK_PASS;
	char *data = msg->data, *end = msg->data_end;
	/* The bytes must start with this request's method and path. */
	for (int i = 0; i < REQUEST_LINE_PREFIX; i++) {
		if (i >= p.prefix_len)
			break;
		if (data + i + 1 > end || data[i] != p.prefix[i]) {
			count(STAT_PROPAGATE_SKIPPED);
			return SK_PASS;
		}
	}
	/* The header goes right after the request line. */
	__u32 at = 0;
	for (int i = 0; i < REQUEST_LINE_MAX - 1; i++) {
		if (data + i + 2 > end)
			break;
		if (data[i] == '\r' && data[i + 1] == '\n') {
			at = i + 2;
			break;
		}
	}
	if (!at || bpf_msg_push_data(msg, at, TRACEPARENT_LINE, 0) ||
	    bpf_msg_pull_data(msg, at, at + TRACEPARENT_LINE, 0)) {
		count(STAT_PROPAGATE_SKIPPED);
		return SK_PASS;
	}
	data = msg->data;
	end = msg->data_end;
	if (data + TRACEPARENT_LINE > end) {
		count(STAT_PROPAGATE_SKIPPED);
		return SK_PASS;
	}
	const char name[] = "Traceparent: ";
	__builtin_memcpy(data, name, 13);
	format_traceparent(data + 13, &p.out.ctx, p.out.trace_flags);
	data[TRACEPARENT_LINE - 2] = '\r';
	data[TRACEPARENT_LINE - 1] = '\n';
	count(STAT_PROPAGATED);
	return SK_PASS;
}
