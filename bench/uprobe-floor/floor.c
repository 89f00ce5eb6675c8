// SPDX-License-Identifier: Apache-2.0
/*
 * The floor under any uprobe-based tracer: nanoseconds per call of a function
 * that does nothing, without a probe and with a no-op BPF program on a uprobe
 * at its first instruction (a NOP, which the kernel emulates: no single-step),
 * attached through a perf-event link (what braid uses) and, on kernels 6.6+,
 * through a uprobe_multi link. Rounds alternate so drift hits all alike.
 *
 *   floor NOOP_BPF_OBJECT [ROUNDS]
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CALLS 2000000
#define TRACE_UPROBE_MULTI 48 /* enum bpf_attach_type, newer than Debian 12's headers */

__asm__(".globl probed\n.type probed,@function\nprobed:\n\tnop\n\tret\n");
void probed(void);

static double ns_per_call(void)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < CALLS; i++)
		probed();
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / CALLS;
}

static struct bpf_object *load(const char *path, int multi)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_program *p = o ? bpf_object__find_program_by_name(o, "noop") : NULL;
	if (!p)
		return NULL;
	if (multi)
		bpf_program__set_expected_attach_type(p, TRACE_UPROBE_MULTI);
	if (bpf_object__load(o)) {
		bpf_object__close(o);
		return NULL;
	}
	return o;
}

/* The file offset of probed, from the mapping of this executable that holds it. */
static unsigned long probed_offset(void)
{
	unsigned long at = (unsigned long)probed, start, end, offset, found = 0;
	char line[512];
	FILE *maps = fopen("/proc/self/maps", "r");
	while (maps && fgets(line, sizeof(line), maps))
		if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &offset) == 3 && at >= start && at < end)
			found = at - start + offset;
	if (maps)
		fclose(maps);
	return found;
}

/* link_create's uprobe_multi member (kernel 6.6+); libbpf before 1.3 has no wrapper. */
static int attach_multi(struct bpf_object *o, unsigned long offset)
{
	struct {
		__u32 prog_fd, target_fd, attach_type, flags;
		__u64 path, offsets, ref_ctr_offsets, cookies;
		__u32 cnt, multi_flags, pid;
		__u8 rest[64];
	} attr = {0};
	unsigned long offsets[1] = {offset};
	attr.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(o, "noop"));
	attr.attach_type = TRACE_UPROBE_MULTI;
	attr.path = (unsigned long)"/proc/self/exe";
	attr.offsets = (unsigned long)offsets;
	attr.cnt = 1;
	return syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: floor NOOP_BPF_OBJECT [ROUNDS]\n");
		return 2;
	}
	unsigned long offset = probed_offset();
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	struct bpf_object *perf_obj = load(argv[1], 0), *multi_obj = load(argv[1], 1);
	if (!perf_obj) {
		fprintf(stderr, "floor: cannot load %s: %s (run as root)\n", argv[1], strerror(errno));
		return 1;
	}
	for (int r = 1; r <= rounds; r++) {
		double none = ns_per_call();
		LIBBPF_OPTS(bpf_uprobe_opts, opts);
		struct bpf_link *l = bpf_program__attach_uprobe_opts(bpf_object__find_program_by_name(perf_obj, "noop"), 0, "/proc/self/exe", offset, &opts);
		if (!l) {
			fprintf(stderr, "floor: cannot attach a uprobe: %s\n", strerror(errno));
			return 1;
		}
		double perf = ns_per_call();
		bpf_link__destroy(l);
		int fd = multi_obj ? attach_multi(multi_obj, offset) : -1;
		double multi = fd >= 0 ? ns_per_call() : 0;
		if (fd >= 0)
			close(fd);
		printf("round %d: no probe %.1f ns/call, perf-event uprobe %.0f ns/call", r, none, perf);
		if (fd >= 0)
			printf(", uprobe_multi %.0f ns/call\n", multi);
		else
			printf(", uprobe_multi not supported here\n");
	}
	return 0;
}
