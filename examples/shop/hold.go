package main

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// holds are requests that burn CPU until the caller releases them: a test can
// look at a request while it runs, stop a tracer under it, and only then let
// it answer, however slow the machine.
type holds struct {
	mu       sync.Mutex
	released map[string]chan struct{}
}

func newHolds() *holds {
	return &holds{released: map[string]chan struct{}{}}
}

// channel is the release channel of key, made by whichever of hold and release comes first.
func (h *holds) channel(key string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.released[key]
	if !ok {
		c = make(chan struct{})
		h.released[key] = c
	}
	return c
}

// hold burns in holdBurn until /release?key= of its key, or a minute.
func (h *holds) hold(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	c := h.channel(key)
	fmt.Fprintf(w, "held %d\n", holdBurn(c, time.Minute))
	h.mu.Lock()
	if h.released[key] == c { // a later hold of the same key has a channel of its own
		delete(h.released, key)
	}
	h.mu.Unlock()
}

// release lets the hold of its key answer.
func (h *holds) release(w http.ResponseWriter, r *http.Request) {
	c := h.channel(r.URL.Query().Get("key"))
	h.mu.Lock()
	select {
	case <-c:
	default:
		close(c)
	}
	h.mu.Unlock()
	fmt.Fprintln(w, "released")
}

//go:noinline
func holdBurn(released <-chan struct{}, most time.Duration) uint64 {
	x, deadline := uint64(0x9e3779b97f4a7c15), time.Now().Add(most)
	for time.Now().Before(deadline) {
		select {
		case <-released:
			return x
		default:
			x = churn(x)
		}
	}
	return x
}
