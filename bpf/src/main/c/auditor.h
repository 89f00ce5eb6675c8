/* SPDX-License-Identifier: Apache-2.0 */
/* Layouts shared by auditor.bpf.c and the conformance suite's decoder in correlator/. */
#ifndef BRAID_AUDITOR_H
#define BRAID_AUDITOR_H

/* What the sampled thread was running, from the Go runtime's own pointers. */
#define AUDIT_UNKNOWN 0      /* no g in the thread's TLS slot, or it could not be read */
#define AUDIT_ON_GOROUTINE 1 /* a user goroutine's code, on its own stack (g == m.curg) */
#define AUDIT_SYSTEM_STACK 2 /* runtime code on g0 for m.curg, or on the signal stack */
#define AUDIT_NO_GOROUTINE 3 /* the scheduler: on g0 with no goroutine (m.curg == nil) */

struct audit_event {
	__u32 pid;
	__u32 tid;
	__u64 time_ns; /* CLOCK_MONOTONIC */
	__u64 goid;    /* m.curg's, when there is one */
	__u64 pc;      /* the user-mode instruction pointer (where a syscall or trap entered the kernel) */
	__u64 caller;  /* the return address the frame pointer leads to (0: none read) */
	__u32 thread;  /* AUDIT_* */
	__u32 has_context;
	struct trace_context context; /* the thread's traces_ctx_v1 entry, if any */
};

#endif /* BRAID_AUDITOR_H */
