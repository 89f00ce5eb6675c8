package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// truthLog records, for every request, the goroutine that ran its handler and
// when (CLOCK_MONOTONIC, eBPF's clock), inside otelhttp's span: braid's
// conformance audit judges the entries of this SDK service against it. One
// line per request: goid, trace id, start ns, end ns (the format of shop's).
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

func (t *truthLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := monotonicNanos()
		next.ServeHTTP(w, r)
		end := monotonicNanos()
		t.mu.Lock()
		defer t.mu.Unlock()
		fmt.Fprintf(t.out, "%d %s %d %d\n", goid(), traceID(r), start, end)
		t.out.Flush()
	})
}

// traceID is the trace of the request's traceparent ("none" without one), which
// otelhttp's span continues.
func traceID(r *http.Request) string {
	parts := strings.Split(r.Header.Get("traceparent"), "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return "none"
	}
	return parts[1]
}

// monotonicNanos reads CLOCK_MONOTONIC without entering the scheduler.
func monotonicNanos() int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// goid is the running goroutine's id, from its stack dump's first line.
func goid() uint64 {
	var buf [64]byte
	line := bytes.TrimPrefix(buf[:runtime.Stack(buf[:], false)], []byte("goroutine "))
	id, _ := strconv.ParseUint(string(line[:bytes.IndexByte(line, ' ')]), 10, 64)
	return id
}
