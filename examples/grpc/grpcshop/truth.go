package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// truthLog records, for every RPC, the goroutine that ran its handler and when
// (CLOCK_MONOTONIC, the clock of eBPF's bpf_ktime_get_ns): the ground truth
// against which braid's conformance suite judges a writer's entries. One line
// per RPC, as examples/shop writes one per request: goid, trace id of the
// traceparent in its metadata, start ns, end ns.
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

// options are the server options that record every RPC; the interval lies
// inside the handler's goroutine's work, so inside any span a writer opens
// around it.
func (t *truthLog) options() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			start := monotonicNanos()
			resp, err := handler(ctx, req)
			t.record(ctx, start)
			return resp, err
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			start := monotonicNanos()
			err := handler(srv, ss)
			t.record(ss.Context(), start)
			return err
		}),
	}
}

func (t *truthLog) record(ctx context.Context, start int64) {
	end := monotonicNanos()
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.out, "%d %s %d %d\n", goid(), traceID(ctx), start, end)
	t.out.Flush() // readable while the service runs
}

// traceID is the trace id of the traceparent in the RPC's metadata, or "-".
func traceID(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("traceparent"); len(v) > 0 {
		if parts := strings.Split(v[0], "-"); len(parts) == 4 && len(parts[1]) == 32 {
			return parts[1]
		}
	}
	return "-"
}

// monotonicNanos reads CLOCK_MONOTONIC without entering the scheduler.
func monotonicNanos() int64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
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
