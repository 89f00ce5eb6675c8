// native burns CPU in three kinds of code, each in a function of its own, so that a profiler's
// symbolization can be checked frame by frame against what the compilers made:
//
//	-mode inline   Go code inlined into its caller: mixInlined, inlined into inlineLoop
//	-mode cgo      C code called through cgo: burn_in_c
//	-mode libc     a C library function: libc's random_r, called by draw_with_libc
//
// It prints "running" once the work has started and runs until killed.
package main

/*
#cgo CFLAGS: -O1 -fno-omit-frame-pointer
#include <stdint.h>
#include <stdlib.h>

__attribute__((noinline)) uint64_t burn_in_c(uint64_t n) {
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static char state[64];
static struct random_data data;

// Called once before the work starts, so that random_r is the only libc function the loop runs.
void init_random(void) {
	initstate_r(42, state, sizeof(state), &data);
}

__attribute__((noinline)) int64_t draw_with_libc(int n) {
	int64_t sum = 0;
	for (int i = 0; i < n; i++) {
		int32_t r;
		random_r(&data, &r);
		sum += r;
	}
	return sum;
}
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
)

// mixInlined is small enough that the compiler inlines it into inlineLoop: its samples have a
// location whose innermost line is mixInlined and whose outer line is inlineLoop.
func mixInlined(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	return x ^ x<<17
}

// inlineLoop spends about half its time in the inlined mixInlined and half in a loop of its own,
// so that samples land on both kinds of instruction whatever the CPU's sample skid.
//
//go:noinline
func inlineLoop(n int) uint64 {
	x := uint64(0x9e3779b97f4a7c15)
	for i := 0; i < n; i++ {
		x = mixInlined(x)
	}
	for i := 0; i < n; i++ {
		x = x*0x5851f42d4c957f2d + 1
	}
	return x
}

//go:noinline
func cgoLoop() uint64 {
	return uint64(C.burn_in_c(C.uint64_t(50_000_000)))
}

//go:noinline
func libcLoop() int64 {
	return int64(C.draw_with_libc(C.int(5_000_000)))
}

var sink uint64

func main() {
	mode := flag.String("mode", "inline", "inline, cgo or libc")
	flag.Parse()
	var work func() uint64
	switch *mode {
	case "inline":
		work = func() uint64 { return inlineLoop(100_000_000) }
	case "cgo":
		work = cgoLoop
	case "libc":
		C.init_random()
		work = func() uint64 { return uint64(libcLoop()) }
	default:
		fmt.Fprintln(os.Stderr, "native: -mode must be inline, cgo or libc")
		os.Exit(2)
	}
	fmt.Println("running")
	for {
		sink += work()
	}
}
