package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
)

// burst serves /burst?n=N: N goroutines started inside the request (each inherits its span), all
// alive at once until the last has started, then each does a little work in burstWork and exits.
// It is the overload of a fan-out: more goroutines holding a span than any fixed-size map of
// braid's can hold.
func burst(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n <= 0 || n > 1_000_000 {
		http.Error(w, "n must be between 1 and 1000000", http.StatusBadRequest)
		return
	}
	start := make(chan struct{})
	results := make(chan uint64, n)
	var started sync.WaitGroup
	started.Add(n)
	for i := 0; i < n; i++ {
		go func(seed uint64) {
			started.Done()
			<-start
			results <- burstWork(seed)
		}(uint64(i) | 1)
	}
	started.Wait()
	close(start)
	var sum uint64
	for i := 0; i < n; i++ {
		sum += <-results
	}
	fmt.Fprintf(w, "burst %d %d\n", n, sum)
}

// burstWork is each burst goroutine's share: a few hundred rounds of xorshift.
//
//go:noinline
func burstWork(x uint64) uint64 {
	for i := 0; i < 256; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
