/* SPDX-License-Identifier: Apache-2.0 */
/* The Go internal register ABI on amd64 (Go 1.17+), as uprobes see it. */
#ifndef BRAID_GO_ABI_H
#define BRAID_GO_ABI_H

/* Integer arguments, in order. */
#define GO_PARAM1(regs) ((regs)->ax)
#define GO_PARAM2(regs) ((regs)->bx)
#define GO_PARAM3(regs) ((regs)->cx)
#define GO_PARAM4(regs) ((regs)->di)
#define GO_PARAM5(regs) ((regs)->si)
#define GO_PARAM6(regs) ((regs)->r8)
#define GO_PARAM7(regs) ((regs)->r9)

/* The running goroutine's g, in Go code only (not assembly, cgo or g0 code). */
#define GO_G(regs) ((regs)->r14)

struct go_string {
	const char *ptr;
	__s64 len;
};

struct go_slice {
	const void *ptr;
	__s64 len;
	__s64 cap;
};

#endif /* BRAID_GO_ABI_H */
