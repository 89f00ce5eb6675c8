/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * What a perf_event program reads about the sampled thread, shared by the
 * sampler and the conformance auditor: its user-mode registers, and the Go
 * runtime's pointers to what it runs (struct sample_target says where).
 */
#ifndef BRAID_PERF_THREAD_H
#define BRAID_PERF_THREAD_H

#include "sampler.h"

/* The thread's user-mode registers that a sample needs. */
struct user_regs {
	__u64 sp, ip, bp;
};

/* The interrupted user-mode registers, or those saved on entry to the kernel; all 0 when unreadable. */
static __always_inline void read_user_regs(struct bpf_perf_event_data *ctx, struct user_regs *r)
{
	/* The context allows whole-word loads only (cs is a half-word), and no load
	 * through a pointer the compiler may have merged with another: load all first. */
	__u64 cs = *(volatile __u64 *)&ctx->regs.cs;
	__u64 rsp = *(volatile __u64 *)&ctx->regs.sp;
	__u64 rip = *(volatile __u64 *)&ctx->regs.ip;
	__u64 rbp = *(volatile __u64 *)&ctx->regs.bp;
	if ((cs & 3) == 3) {
		r->sp = rsp;
		r->ip = rip;
		r->bp = rbp;
		return;
	}
	r->sp = r->ip = r->bp = 0;
	struct pt_regs *user = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (user) {
		bpf_probe_read_kernel(&r->sp, sizeof(r->sp), &user->sp);
		bpf_probe_read_kernel(&r->ip, sizeof(r->ip), &user->ip);
		bpf_probe_read_kernel(&r->bp, sizeof(r->bp), &user->bp);
	}
}

/*
 * The return address that the user-mode frame pointer leads to: in a function
 * past its prologue, where it was called from (Go keeps frame pointers on
 * amd64); 0 when none could be read.
 */
static __always_inline __u64 user_caller(const struct user_regs *r)
{
	__u64 ret = 0;
	if (r->bp)
		bpf_probe_read_user(&ret, sizeof(ret), (void *)(r->bp + 8));
	return ret;
}

/*
 * The Go thread's g (from its TLS slot), g.m and m.curg (0 on the scheduler):
 * 0 when all could be read, -1 when not (no g: not a Go thread, or not yet).
 */
static __always_inline int read_go_thread(const struct sample_target *t, __u64 *g, __u64 *m, __u64 *curg)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 tp = task->thread.fsbase;
	*g = *m = *curg = 0;
	if (bpf_probe_read_user(g, sizeof(*g), (void *)(tp + t->tls_g)) || !*g ||
	    bpf_probe_read_user(m, sizeof(*m), (void *)(*g + t->g_m)) || !*m ||
	    bpf_probe_read_user(curg, sizeof(*curg), (void *)(*m + t->m_curg)))
		return -1;
	return 0;
}

#endif /* BRAID_PERF_THREAD_H */
