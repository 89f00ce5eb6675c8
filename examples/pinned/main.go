// Command pinned is the workload of braid's reference writer: four workers,
// each locked to an OS thread of its own, burn CPU in functions of their own,
// work1 to work4. It prints "worker N tid T" for each, then "ready", and runs
// until killed. The reference writer gives the threads of workers 1 to 3 known
// trace contexts and worker 4's none, so that a profiler's samples can be
// checked against them: a sample in workN must carry worker N's context.
package main

import (
	"fmt"
	"runtime"
	"syscall"
)

func main() {
	runtime.GOMAXPROCS(8) // a P for every worker: none waits for another
	workers := []func(){work1, work2, work3, work4}
	started := make(chan string)
	for i, work := range workers {
		go func(n int, work func()) {
			runtime.LockOSThread() // never unlocked: the thread is the worker's
			started <- fmt.Sprintf("worker %d tid %d", n, syscall.Gettid())
			work()
		}(i+1, work)
	}
	for range workers {
		fmt.Println(<-started)
	}
	fmt.Println("ready")
	select {}
}

//go:noinline
func work1() { burn(0x9e3779b97f4a7c15) }

//go:noinline
func work2() { burn(0xbf58476d1ce4e5b9) }

//go:noinline
func work3() { burn(0x94d049bb133111eb) }

//go:noinline
func work4() { burn(0x2545f4914f6cdd1d) }

// burn does integer work forever.
func burn(x uint64) {
	for {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
}
