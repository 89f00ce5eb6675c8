// Command shop is braid's ground-truth workload: an HTTP service whose routes
// each burn CPU in a function of their own, so that a CPU profile can be
// checked against the trace that asked for the work.
//
//	GET /checkout?ms=N  burns N ms in priceCart
//	GET /search?ms=N    burns N ms in rankResults
//	GET /hello          answers at once (the benchmark route)
//
// With -spinners K it also runs K goroutines that burn CPU in compactIndex
// forever without serving any request: no sample of theirs may carry a span.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	spinners := flag.Int("spinners", 0, "goroutines that burn CPU outside any request")
	flag.Parse()

	// Step 1: untraced background work, started before any request exists.
	for i := 0; i < *spinners; i++ {
		go compactIndex(uint64(i))
	}

	// Step 2: one route per burn function.
	mux := http.NewServeMux()
	mux.HandleFunc("/checkout", func(w http.ResponseWriter, r *http.Request) {
		sum := priceCart(burnDuration(r))
		fmt.Fprintf(w, "checkout %d\n", sum)
	})
	mux.HandleFunc("/search", func(w http.ResponseWriter, r *http.Request) {
		sum := rankResults(burnDuration(r))
		fmt.Fprintf(w, "search %d\n", sum)
	})
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello\n"))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "failing on purpose", http.StatusInternalServerError)
	})

	// Step 3: listen, then tell the caller where (tests and the demo read this line).
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

// burnDuration reads ?ms=N (default 2 ms).
func burnDuration(r *http.Request) time.Duration {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		ms = 2
	}
	return time.Duration(ms) * time.Millisecond
}

// priceCart and rankResults each burn CPU in their own loop, so that the
// function a profile shows at the top of the stack is the route's own.
//
//go:noinline
func priceCart(d time.Duration) uint64 {
	x, deadline := uint64(0x9e3779b97f4a7c15), time.Now().Add(d)
	for time.Now().Before(deadline) {
		for i := 0; i < 1<<14; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	return x
}

//go:noinline
func rankResults(d time.Duration) uint64 {
	x, deadline := uint64(0xc2b2ae3d27d4eb4f), time.Now().Add(d)
	for time.Now().Before(deadline) {
		for i := 0; i < 1<<14; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	return x
}

// compactIndex never returns: it is the busy goroutine that serves no request.
//
//go:noinline
func compactIndex(seed uint64) {
	for {
		seed += spin(10*time.Millisecond, seed|1)
	}
}

// spin does integer work until d has passed, reading the clock rarely.
func spin(d time.Duration, x uint64) uint64 {
	deadline := time.Now().Add(d)
	for {
		for i := 0; i < 1<<14; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		if !time.Now().Before(deadline) {
			return x
		}
	}
}
