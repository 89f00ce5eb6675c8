package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

// truthLog records, for every request, the goroutine that ran its handler and
// when (CLOCK_MONOTONIC, the clock of eBPF's bpf_ktime_get_ns): the ground
// truth against which braid's conformance suite judges a writer's entries.
// One line per request: goid, trace id of its traceparent, start ns, end ns.
type truthLog struct {
	mu  sync.Mutex
	out *bufio.Writer
}

func openTruthLog(path string) (*truthLog, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &truthLog{out: bufio.NewWriter(f)}, nil
}

// wrap records each request of next; the interval lies inside the handler,
// so inside any span a writer opens around it.
func (t *truthLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := monotonicNanos()
		next.ServeHTTP(w, r)
		end := monotonicNanos()
		t.mu.Lock()
		defer t.mu.Unlock()
		fmt.Fprintf(t.out, "%d %s %d %d\n", goid(), traceID(r), start, end)
		t.out.Flush() // readable while the service runs
	})
}

// monotonicNanos reads CLOCK_MONOTONIC without entering the scheduler.
func monotonicNanos() int64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafePointer(&ts)), 0)
	return ts.Nano()
}

// goid is the running goroutine's id, from the first line of its stack dump
// ("goroutine 42 [running]:"): Go has no API for it.
func goid() uint64 {
	var buf [64]byte
	line := buf[:runtime.Stack(buf[:], false)]
	line = bytes.TrimPrefix(line, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(line[:bytes.IndexByte(line, ' ')]), 10, 64)
	return id
}
