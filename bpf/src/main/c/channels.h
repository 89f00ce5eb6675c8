/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * Channel links: pairs each Go channel send with the receive that took its
 * value, exactly, and reports the pair when both goroutines have a span.
 *
 * - Direct hand-offs: runtime.send and runtime.recv run with the channel
 *   locked and get the waiting peer's sudog. Probes on their CALLs in
 *   chansend, chanrecv and selectgo see both goroutines (and which side is a
 *   select); the peer's select-ness is sudog.isSelect.
 * - Buffers: a sent value sits in slot sendx until a receive takes slot recvx.
 *   Probes on the CALLs that copy into a slot (typedmemmove) and clear one
 *   (typedmemclr), also with the lock held, note who filled the slot and
 *   pair it when it is emptied. The slot is checked against the call's
 *   pointer argument, so a call that is not a buffer copy pairs nothing.
 *   recv on a full buffer both empties the head slot and refills it with the
 *   blocked sender's value.
 * - The copy calls' arguments do not name the channel: it is chansend's and
 *   chanrecv's first argument, and selectgo's cases are its first (with the
 *   number of send cases fourth). The compiler keeps these in the arguments'
 *   spill slots on the stack, where its own code reloads them after calls
 *   (so they stay right when the stack moves): user space checks that it
 *   does, and puts the slots' offsets from SP in the attach cookie's upper
 *   half, 16 bits each.
 */
#ifndef BRAID_CHANNELS_H
#define BRAID_CHANNELS_H

struct chan_slot_key {
	__u32 tgid;
	__u32 _pad;
	__u64 chan;
	__u64 slot;
};

/* Who filled a buffer slot, when that goroutine had a span. */
struct chan_slot {
	struct trace_context ctx;
	__u64 goid;
	__u8 select;
	__u8 _pad[7];
};

/* Filled slots of buffered channels, by (tgid, hchan, index). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct chan_slot_key);
	__type(value, struct chan_slot);
} chan_slots SEC(".maps");

/* The context of goroutine goid of this process, if it has one; 1 if it has. */
static __always_inline int context_of(__u32 tgid, __u64 goid, struct trace_context *out)
{
	struct goroutine_key key = {.tgid = tgid, .goid = goid};
	struct goroutine *g = bpf_map_lookup_elem(&goroutines, &key);
	if (!g || !g->has_ctx)
		return 0;
	*out = g->ctx;
	return 1;
}

/* The channel-link view of the running goroutine; 0 on success. */
static __always_inline int chan_running(struct pt_regs *ctx, struct running *r)
{
	return running_goroutine(ctx, r) || !(r->off->features & FEAT_CHAN_LINKS) ? -1 : 0;
}

static __always_inline struct handoff_event *handoff_reserve(const struct running *r, __u64 c, __u32 phase)
{
	struct handoff_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_RINGBUF_FULL);
		return 0;
	}
	fill_header(&e->header, EVENT_HANDOFF, r);
	e->chan = c;
	e->capacity = 0;
	bpf_probe_read_user(&e->capacity, sizeof(e->capacity), (void *)(c + r->off->hchan_dataqsiz));
	e->phase = phase;
	e->sender_select = 0;
	e->receiver_select = 0;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	return e;
}

/* The goroutine waiting in sudog sg, and whether it waits in a select; 0 on success. */
static __always_inline int waiting_peer(const struct go_offsets *off, __u64 sg, __u64 *goid, __u8 *select)
{
	__u64 gp = 0;
	if (read_u64(&gp, sg + off->sudog_g) || !gp)
		return -1;
	*select = 0;
	bpf_probe_read_user(select, 1, (void *)(sg + off->sudog_is_select));
	return read_u64(goid, gp + off->g_goid);
}

/* What the probes read of a runtime.hchan, in one read of its first HCHAN_VIEW_WORDS words. */
struct chan_view {
	__u64 dataqsiz;
	__u64 buf;
	__u64 sendx;
	__u64 recvx;
	__u16 elemsize;
};

static __always_inline __u64 view_word(const __u64 *words, __u32 off)
{
	return words[(off >> 3) & (HCHAN_VIEW_WORDS - 1)];
}

/* Reads channel c; 0 on success. User space checks that the fields lie in the words read. */
static __always_inline int read_chan(const struct go_offsets *off, __u64 c, struct chan_view *v)
{
	__u64 words[HCHAN_VIEW_WORDS];
	if (!c || bpf_probe_read_user(words, sizeof(words), (void *)c)) {
		count(STAT_READ_FAILED);
		return -1;
	}
	v->dataqsiz = view_word(words, off->hchan_dataqsiz);
	v->buf = view_word(words, off->hchan_buf);
	v->sendx = view_word(words, off->hchan_sendx);
	v->recvx = view_word(words, off->hchan_recvx);
	v->elemsize = view_word(words, off->hchan_elemsize) >> ((off->hchan_elemsize & 7) * 8);
	return 0;
}

/*
 * Whether ptr is the buffer slot of channel c that its sendx (or recvx) names:
 * 0 if it is, with the index in *slot. Channels of empty values (chan
 * struct{}) hold tokens, not work (semaphores, wake-ups): their buffers are
 * not paired.
 */
static __always_inline int is_slot(const struct go_offsets *off, __u64 c, __u64 ptr, int sending, __u64 *slot)
{
	struct chan_view v;
	if (read_chan(off, c, &v) || !v.dataqsiz || !v.elemsize)
		return -1;
	*slot = sending ? v.sendx : v.recvx;
	return ptr == v.buf + *slot * v.elemsize ? 0 : -1;
}

/*
 * A value enters slot `slot` of c, from goroutine goid: the slot remembers
 * its sender's span, or forgets a former one when it has none.
 */
static __always_inline void slot_filled(const struct running *r, __u64 c, __u64 slot, __u64 goid, __u8 select)
{
	struct chan_slot_key key = {.tgid = r->key.tgid, .chan = c, .slot = slot};
	struct chan_slot filled = {.goid = goid, .select = select};
	if (!context_of(r->key.tgid, goid, &filled.ctx)) {
		if (bpf_map_lookup_elem(&chan_slots, &key)) /* a look-up is cheaper than a delete */
			bpf_map_delete_elem(&chan_slots, &key);
		return;
	}
	bpf_map_update_elem(&chan_slots, &key, &filled, BPF_ANY);
	struct handoff_event *e = handoff_reserve(r, c, HANDOFF_QUEUED);
	if (!e)
		return;
	e->sender = filled.ctx;
	e->sender_goid = goid;
	e->sender_select = select;
	e->receiver_goid = 0;
	__builtin_memset(&e->receiver, 0, sizeof(e->receiver));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* Slot `slot` of c is emptied by the running goroutine: its sender, if spanned, meets its receiver. */
static __always_inline void slot_emptied(const struct running *r, __u64 c, __u64 slot, __u8 select)
{
	struct chan_slot_key key = {.tgid = r->key.tgid, .chan = c, .slot = slot};
	struct chan_slot *s = bpf_map_lookup_elem(&chan_slots, &key);
	if (!s)
		return;
	struct chan_slot filled = *s;
	bpf_map_delete_elem(&chan_slots, &key);
	struct handoff_event *e = handoff_reserve(r, c, HANDOFF_DEQUEUED);
	if (!e)
		return;
	e->sender = filled.ctx;
	e->sender_goid = filled.goid;
	e->sender_select = filled.select;
	e->receiver_goid = r->key.goid;
	e->receiver_select = select;
	if (!context_of(r->key.tgid, r->key.goid, &e->receiver))
		__builtin_memset(&e->receiver, 0, sizeof(e->receiver));
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/*
 * runtime.send(c, sg, ...) or runtime.recv(c, sg, ...) is called (c in RAX,
 * sg in RBX): the running goroutine sends to, or receives from, the one
 * waiting in sg.
 */
static __always_inline void direct_handoff(struct pt_regs *ctx, int sending, __u8 select)
{
	struct running r;
	if (chan_running(ctx, &r))
		return;
	__u64 c = GO_PARAM1(ctx), sg = GO_PARAM2(ctx), peer_goid = 0;
	__u8 peer_select = 0;
	struct chan_view v = {};
	if (!sending && read_chan(r.off, c, &v))
		return;
	if (v.dataqsiz) { /* receiving (a send finds a receiver waiting only on an empty buffer) */
		/* A full buffer: the receiver takes the head slot, the waiting sender's value refills it. */
		__u64 slot = v.recvx;
		if (!v.elemsize)
			return;
		slot_emptied(&r, c, slot, select);
		if (!waiting_peer(r.off, sg, &peer_goid, &peer_select)) {
			slot_filled(&r, c, slot, peer_goid, peer_select);
		} else {
			struct chan_slot_key key = {.tgid = r.key.tgid, .chan = c, .slot = slot};
			bpf_map_delete_elem(&chan_slots, &key); /* its sender is unknown: it pairs with nothing */
		}
		return;
	}
	struct trace_context mine, theirs;
	if (!context_of(r.key.tgid, r.key.goid, &mine) || waiting_peer(r.off, sg, &peer_goid, &peer_select) ||
	    !context_of(r.key.tgid, peer_goid, &theirs))
		return;
	struct handoff_event *e = handoff_reserve(&r, c, HANDOFF_DIRECT);
	if (!e)
		return;
	if (sending) {
		e->sender = mine;
		e->sender_goid = r.key.goid;
		e->sender_select = select;
		e->receiver = theirs;
		e->receiver_goid = peer_goid;
		e->receiver_select = peer_select;
	} else {
		e->sender = theirs;
		e->sender_goid = peer_goid;
		e->sender_select = peer_select;
		e->receiver = mine;
		e->receiver_goid = r.key.goid;
		e->receiver_select = select;
	}
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/*
 * The arguments the probe reads from their spill slots, in the order of the
 * cookie's upper half (16 bits each: the slot's offset from SP).
 */
static __always_inline void spilled_arguments(struct pt_regs *ctx, __u64 *first, __u64 *second)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), sp = PT_REGS_SP(ctx);
	__u32 a = (cookie >> 32) & 0xffff, b = (cookie >> 48) & 0xffff;
	*first = *second = 0;
	if (a)
		bpf_probe_read_user(first, sizeof(*first), (void *)(sp + a));
	if (b)
		bpf_probe_read_user(second, sizeof(*second), (void *)(sp + b));
}

/* ---- direct hand-offs ------------------------------------------------------ */

/* The CALL of runtime.send in chansend. */
SEC("uprobe")
int chan_send_direct(struct pt_regs *ctx)
{
	direct_handoff(ctx, 1, 0);
	return 0;
}

/* The CALL of runtime.send in selectgo. */
SEC("uprobe")
int select_send_direct(struct pt_regs *ctx)
{
	direct_handoff(ctx, 1, 1);
	return 0;
}

/* The CALL of runtime.recv in chanrecv. */
SEC("uprobe")
int chan_recv_direct(struct pt_regs *ctx)
{
	direct_handoff(ctx, 0, 0);
	return 0;
}

/* The CALL of runtime.recv in selectgo. */
SEC("uprobe")
int select_recv_direct(struct pt_regs *ctx)
{
	direct_handoff(ctx, 0, 1);
	return 0;
}

/* ---- buffers ----------------------------------------------------------------- */

/* The CALL of typedmemmove(typ, dst, src) in chansend(c, ...): a value enters slot sendx. */
SEC("uprobe")
int chan_buffer_send(struct pt_regs *ctx)
{
	struct running r;
	__u64 c, unused, slot = 0;
	spilled_arguments(ctx, &c, &unused);
	if (chan_running(ctx, &r) || is_slot(r.off, c, GO_PARAM2(ctx), 1, &slot))
		return 0;
	slot_filled(&r, c, slot, r.key.goid, 0);
	return 0;
}

/*
 * The CALLs of typedmemclr(typ, ptr) in chanrecv(c, ...): slot recvx is
 * emptied (the other calls clear the receiver's variable, no slot).
 */
SEC("uprobe")
int chan_buffer_recv(struct pt_regs *ctx)
{
	struct running r;
	__u64 c, unused, slot = 0;
	spilled_arguments(ctx, &c, &unused);
	if (chan_running(ctx, &r) || is_slot(r.off, c, GO_PARAM2(ctx), 0, &slot))
		return 0;
	slot_emptied(&r, c, slot, 0);
	return 0;
}

/* The *hchan of case i of selectgo's cases. */
static __always_inline __u64 select_case_chan(const struct go_offsets *off, __u64 cases, __u64 i)
{
	__u64 c = 0;
	bpf_probe_read_user(&c, sizeof(c), (void *)(cases + i * off->scase_size + off->scase_c));
	return c;
}

/*
 * The CALLs of typedmemmove(typ, dst, src) in selectgo(cas0, order0, pc0,
 * nsends, ...): a send case copies into its channel's slot sendx (a receive
 * case copies out of a slot: no send case's slot is its dst).
 */
SEC("uprobe")
int select_buffer_send(struct pt_regs *ctx)
{
	struct running r;
	if (chan_running(ctx, &r))
		return 0;
	__u64 cases, nsends, dst = GO_PARAM2(ctx), slot = 0;
	spilled_arguments(ctx, &cases, &nsends);
	for (__u64 i = 0; i < SELECT_CASES_MAX && i < nsends; i++) {
		__u64 c = select_case_chan(r.off, cases, i);
		if (!is_slot(r.off, c, dst, 1, &slot)) {
			slot_filled(&r, c, slot, r.key.goid, 1);
			return 0;
		}
	}
	if (nsends > SELECT_CASES_MAX)
		count(STAT_SELECT_TOO_BIG);
	return 0;
}

/*
 * The CALLs of typedmemclr(typ, ptr) in selectgo: a receive case empties its
 * channel's slot recvx (or a closed channel's case clears its variable). The
 * receive cases follow the sends; their number is not kept, and a slot that
 * matches is the proof.
 */
SEC("uprobe")
int select_buffer_recv(struct pt_regs *ctx)
{
	struct running r;
	if (chan_running(ctx, &r))
		return 0;
	__u64 cases, nsends, ptr = GO_PARAM2(ctx), slot = 0;
	spilled_arguments(ctx, &cases, &nsends);
	if (nsends > 1 << 16)
		return 0;
	for (__u64 i = 0; i < SELECT_CASES_MAX; i++) {
		__u64 c = select_case_chan(r.off, cases, nsends + i);
		if (!is_slot(r.off, c, ptr, 0, &slot)) {
			slot_emptied(&r, c, slot, 1);
			return 0;
		}
	}
	return 0;
}

#endif /* BRAID_CHANNELS_H */
