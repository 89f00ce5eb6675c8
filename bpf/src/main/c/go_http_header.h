/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a W3C traceparent out of a Go http.Header (map[string][]string)
 * from a uprobe: the map is walked slot by slot, in the layout of the binary's
 * Go release (swiss tables since Go 1.24, buckets before), a whole group or
 * bucket per read.
 */
#ifndef BRAID_GO_HTTP_HEADER_H
#define BRAID_GO_HTTP_HEADER_H

#define TRACEPARENT_LEN 55

#define KEY_SIZE 16  /* string */
#define ELEM_SIZE 24 /* []string */

/* Swiss tables (Go 1.24+): a group is a control word and 8 key/elem slots. */
#define SWISS_SLOTS 8
#define SWISS_SLOT_SIZE (KEY_SIZE + ELEM_SIZE)
#define SWISS_GROUP_SIZE (8 + SWISS_SLOTS * SWISS_SLOT_SIZE)
#define SWISS_MAX_TABLES 8
#define SWISS_MAX_GROUPS 16

/* Buckets (Go <= 1.23): tophash[8], keys[8], elems[8], overflow pointer. */
#define BUCKET_SLOTS 8
#define BUCKET_KEYS 8
#define BUCKET_ELEMS (BUCKET_KEYS + BUCKET_SLOTS * KEY_SIZE)
#define BUCKET_OVERFLOW (BUCKET_ELEMS + BUCKET_SLOTS * ELEM_SIZE)
#define BUCKET_SIZE (BUCKET_OVERFLOW + 8)
#define BUCKET_MIN_TOPHASH 5 /* below: empty or evacuated */
#define BUCKETS_MAX_B 4
#define BUCKETS_MAX_CHAIN 2
#define HMAP_SAME_SIZE_GROW 8 /* hmap.flags: old buckets are as many as the new ones */

/* One group or bucket, copied out of the process in one read. */
struct map_chunk {
	__u8 bytes[BUCKET_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct map_chunk);
} header_scratch SEC(".maps");

static __always_inline int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is invalid in traceparent */
}

static __always_inline int parse_hex(const char *s, __u8 *out, int nbytes)
{
	__u8 any = 0;
	for (int i = 0; i < nbytes; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (hi << 4) | lo;
		any |= out[i];
	}
	return any ? 0 : -1; /* all-zero IDs are invalid */
}

struct parsed_parent {
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 flags;
};

/* version "-" trace-id "-" parent-id "-" flags; version ff is invalid. */
static __always_inline int parse_traceparent(const char *s, __s64 len, struct parsed_parent *p)
{
	if (len < TRACEPARENT_LEN || s[2] != '-' || s[35] != '-' || s[52] != '-')
		return -1;
	int v1 = hex_value(s[0]), v2 = hex_value(s[1]);
	if (v1 < 0 || v2 < 0 || (v1 == 15 && v2 == 15))
		return -1;
	if (v1 == 0 && v2 == 0 && len != TRACEPARENT_LEN)
		return -1;
	if (parse_hex(s + 3, p->trace_id, 16) || parse_hex(s + 36, p->span_id, 8))
		return -1;
	int f1 = hex_value(s[53]), f2 = hex_value(s[54]);
	if (f1 < 0 || f2 < 0)
		return -1;
	p->flags = (f1 << 4) | f2;
	return 0;
}

/* Is the Go string header at key (already copied out) the canonical "Traceparent"? */
static __always_inline int is_traceparent_key(const __u8 *key)
{
	const struct go_string *k = (const struct go_string *)key;
	if (k->len != 11)
		return 0;
	char b[11];
	if (bpf_probe_read_user(b, sizeof(b), k->ptr))
		return 0;
	return b[0] == 'T' && b[1] == 'r' && b[2] == 'a' && b[3] == 'c' && b[4] == 'e' &&
	       b[5] == 'p' && b[6] == 'a' && b[7] == 'r' && b[8] == 'e' && b[9] == 'n' &&
	       b[10] == 't';
}

/*
 * The scans of one group and one bucket are global functions: the verifier
 * checks each once, instead of once per iteration of the loops that call them
 * (inlined, they made loading take tens of seconds).
 */

/* The address of the []string of the Traceparent key in a swiss group, or 0. */
__noinline __u64 swiss_group_find(struct map_chunk *c, __u64 group)
{
	if (!c || bpf_probe_read_user(c->bytes, SWISS_GROUP_SIZE, (void *)group))
		return 0;
	__u64 ctrl = *(__u64 *)c->bytes;
	for (int i = 0; i < SWISS_SLOTS; i++) {
		if ((ctrl >> (8 * i)) & 0x80) /* empty or deleted */
			continue;
		if (is_traceparent_key(&c->bytes[8 + i * SWISS_SLOT_SIZE]))
			return group + 8 + i * SWISS_SLOT_SIZE + KEY_SIZE;
	}
	return 0;
}

__noinline __u64 swiss_find(const struct go_offsets *off, struct map_chunk *c, __u64 m)
{
	__u64 dir[2] = {}; /* dirPtr, dirLen */
	if (!off || !c)
		return 0;
	if (off->swiss_dir_len == off->swiss_dir_ptr + 8) { /* as in every release so far: one read */
		if (bpf_probe_read_user(dir, sizeof(dir), (void *)(m + off->swiss_dir_ptr)))
			return 0;
	} else if (bpf_probe_read_user(&dir[0], 8, (void *)(m + off->swiss_dir_ptr)) ||
		   bpf_probe_read_user(&dir[1], 8, (void *)(m + off->swiss_dir_len))) {
		return 0;
	}
	__u64 dir_ptr = dir[0], dir_len = dir[1];
	if (!dir_ptr)
		return 0;
	if (dir_len == 0) /* a small map: dirPtr is its only group */
		return swiss_group_find(c, dir_ptr);
	if (dir_len > SWISS_MAX_TABLES)
		count(STAT_HEADERS_TOO_MANY); /* the walk sees only part of a huge header map */
	for (int t = 0; t < SWISS_MAX_TABLES && t < dir_len; t++) {
		__u64 table, groups, mask;
		if (bpf_probe_read_user(&table, 8, (void *)(dir_ptr + 8 * t)) || !table ||
		    bpf_probe_read_user(&groups, 8, (void *)(table + off->swiss_table_groups)) ||
		    bpf_probe_read_user(&mask, 8, (void *)(table + off->swiss_table_groups + 8)))
			return 0;
		if (mask >= SWISS_MAX_GROUPS)
			count(STAT_HEADERS_TOO_MANY);
		for (int g = 0; g < SWISS_MAX_GROUPS && g <= mask; g++) {
			__u64 found = swiss_group_find(c, groups + g * SWISS_GROUP_SIZE);
			if (found)
				return found;
		}
	}
	return 0;
}

/* The address of the []string of the Traceparent key in a bucket (or its overflow), or 0. */
__noinline __u64 bucket_find(struct map_chunk *c, __u64 bucket)
{
	if (!c)
		return 0;
	for (int chain = 0; chain < BUCKETS_MAX_CHAIN && bucket; chain++) {
		if (bpf_probe_read_user(c->bytes, BUCKET_SIZE, (void *)bucket))
			return 0;
		for (int i = 0; i < BUCKET_SLOTS; i++) {
			if (c->bytes[i] < BUCKET_MIN_TOPHASH)
				continue;
			if (is_traceparent_key(&c->bytes[BUCKET_KEYS + i * KEY_SIZE]))
				return bucket + BUCKET_ELEMS + i * ELEM_SIZE;
		}
		bucket = *(__u64 *)&c->bytes[BUCKET_OVERFLOW];
	}
	return 0;
}

__noinline __u64 buckets_find(const struct go_offsets *off, struct map_chunk *c, __u64 m)
{
	__u8 b, flags;
	__u64 buckets, old;
	if (!off || !c)
		return 0;
	if (bpf_probe_read_user(&flags, 1, (void *)(m + off->hmap_flags)) ||
	    bpf_probe_read_user(&b, 1, (void *)(m + off->hmap_b)) ||
	    bpf_probe_read_user(&buckets, 8, (void *)(m + off->hmap_buckets)) ||
	    bpf_probe_read_user(&old, 8, (void *)(m + off->hmap_oldbuckets)))
		return 0;
	if (b > BUCKETS_MAX_B) {
		count(STAT_HEADERS_TOO_MANY);
		return 0;
	}
	for (int i = 0; i < (1 << BUCKETS_MAX_B) && i < (1 << b); i++) {
		__u64 found = bucket_find(c, buckets + i * BUCKET_SIZE);
		if (found)
			return found;
	}
	/* While the map grows, entries not yet moved stay in the old buckets: half as
	 * many, or as many in a same-size grow (which only drops deleted entries). */
	__u8 old_b = (flags & HMAP_SAME_SIZE_GROW) ? b : (b > 0 ? b - 1 : 0);
	for (int i = 0; old && i < (1 << BUCKETS_MAX_B) && i < (1 << old_b); i++) {
		__u64 found = bucket_find(c, old + i * BUCKET_SIZE);
		if (found)
			return found;
	}
	return 0;
}

/* The address of header["Traceparent"] (a []string) in the http.Header at m, or 0. */
static __always_inline __u64 header_traceparent(const struct go_offsets *off, __u64 m)
{
	__u32 zero = 0;
	struct map_chunk *c = bpf_map_lookup_elem(&header_scratch, &zero);
	if (!c || !m)
		return 0;
	return off->map_layout == MAP_LAYOUT_SWISS ? swiss_find(off, c, m) : buckets_find(off, c, m);
}

/* Reads header["Traceparent"][0] of the http.Header at m and parses it; 0 on success. */
static __always_inline int read_traceparent(const struct go_offsets *off, __u64 m,
					    struct parsed_parent *p)
{
	if (!(off->features & FEAT_TRACEPARENT))
		return -1;
	__u64 values = header_traceparent(off, m);
	if (!values)
		return -1;
	struct go_slice vs;
	struct go_string v;
	/* Two traceparent headers are invalid (W3C): the request starts a new trace. */
	if (bpf_probe_read_user(&vs, sizeof(vs), (void *)values) || vs.len != 1 ||
	    bpf_probe_read_user(&v, sizeof(v), vs.ptr) || v.len < TRACEPARENT_LEN)
		return -1;
	char s[TRACEPARENT_LEN + 1] = {};
	if (bpf_probe_read_user(s, sizeof(s) - 1, v.ptr))
		return -1;
	if (v.len > TRACEPARENT_LEN &&
	    (bpf_probe_read_user(&s[TRACEPARENT_LEN], 1, v.ptr + TRACEPARENT_LEN) ||
	     s[TRACEPARENT_LEN] != '-'))
		return -1;
	return parse_traceparent(s, v.len, p);
}

/* Writes "00-<trace id>-<span id>-<flags>" (TRACEPARENT_LEN bytes) into out. */
static __always_inline void format_traceparent(char *out, const struct trace_context *ctx,
					       __u8 flags)
{
	const char hex[] = "0123456789abcdef";
	out[0] = '0';
	out[1] = '0';
	out[2] = '-';
	for (int i = 0; i < 16; i++) {
		out[3 + 2 * i] = hex[ctx->trace_id[i] >> 4];
		out[4 + 2 * i] = hex[ctx->trace_id[i] & 0xf];
	}
	out[35] = '-';
	for (int i = 0; i < 8; i++) {
		out[36 + 2 * i] = hex[ctx->span_id[i] >> 4];
		out[37 + 2 * i] = hex[ctx->span_id[i] & 0xf];
	}
	out[52] = '-';
	out[53] = hex[flags >> 4];
	out[54] = hex[flags & 0xf];
}

#endif /* BRAID_GO_HTTP_HEADER_H */
