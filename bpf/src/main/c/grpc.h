/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * google.golang.org/grpc servers: a stream's incoming traceparent, which the
 * transport's reader goroutine sees in the HEADERS frame before any handler
 * goroutine exists, kept for the handler by (process, transport, stream id).
 */
#ifndef BRAID_GRPC_H
#define BRAID_GRPC_H

#define GRPC_HEADERS_MAX 32 /* header fields looked at per HEADERS frame: traceparent further on is missed */

struct grpc_stream_key {
	__u32 tgid;
	__u32 stream_id;
	__u64 transport; /* the *http2Server: stream ids count per connection */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct grpc_stream_key);
	__type(value, struct parsed_parent);
} grpc_parents SEC(".maps");

/* One header field as x/net/http2 decoded it: hpack.HeaderField's Name and Value. */
struct header_field {
	struct go_string name;
	struct go_string value;
};

/*
 * Whether the hpack.HeaderField at addr is "traceparent" (gRPC metadata keys
 * are lower case) with a value that parses; the parent is in *p then. A global
 * function: the verifier checks it once, not once per field of the loop.
 */
__noinline int grpc_traceparent_field(const struct go_offsets *off, __u64 addr, struct parsed_parent *p)
{
	struct header_field f = {};
	if (!off || !p || bpf_probe_read_user(&f.name, sizeof(f.name), (void *)addr) || f.name.len != 11 ||
	    bpf_probe_read_user(&f.value, sizeof(f.value), (void *)(addr + off->hpack_field_value)) ||
	    f.value.len < TRACEPARENT_LEN)
		return 0;
	char name[11];
	if (bpf_probe_read_user(name, sizeof(name), f.name.ptr) || name[0] != 't' || name[1] != 'r' || name[2] != 'a' ||
	    name[3] != 'c' || name[4] != 'e' || name[5] != 'p' || name[6] != 'a' || name[7] != 'r' || name[8] != 'e' ||
	    name[9] != 'n' || name[10] != 't')
		return 0;
	char v[TRACEPARENT_LEN + 1] = {};
	if (bpf_probe_read_user(v, sizeof(v) - 1, f.value.ptr))
		return 0;
	if (f.value.len > TRACEPARENT_LEN &&
	    (bpf_probe_read_user(&v[TRACEPARENT_LEN], 1, f.value.ptr + TRACEPARENT_LEN) || v[TRACEPARENT_LEN] != '-'))
		return 0;
	return parse_traceparent(v, f.value.len, p) == 0;
}

/* The transport.Stream of a handleStream or writeStatus argument (a *ServerStream since grpc 1.69). */
static __always_inline __u64 grpc_stream(const struct go_offsets *off, __u64 server_stream)
{
	if (!(off->features & FEAT_GRPC_STREAM_PTR))
		return server_stream + off->grpc_server_stream_stream;
	__u64 stream = 0;
	bpf_probe_read_user(&stream, sizeof(stream), (void *)(server_stream + off->grpc_server_stream_stream));
	return stream;
}

#endif /* BRAID_GRPC_H */
