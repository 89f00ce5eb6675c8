package main

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"syscall"
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
	h.forget(key, c)
}

// forget drops the release channel c of key once its hold is over.
func (h *holds) forget(key string, c chan struct{}) {
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

// threadExit is a request whose thread exits under it: the handler locks its
// goroutine to its thread, says which thread that is, burns until
// /release?key= of its key, and ends its goroutine still locked
// (runtime.Goexit), so the runtime ends the thread. Its span never ends
// normally: net/http closes the connection, cutting the answer after its
// first line. Every writer stamps a handler's own thread, so every writer is
// judged by it.
func (h *holds) threadExit(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	c := h.channel(key)
	defer h.forget(key, c)
	if !lockToAThreadThatMayExit() {
		http.Error(w, "the handler ran on the main thread only", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintf(w, "tid %d\n", syscall.Gettid())
	w.(http.Flusher).Flush()
	holdBurn(c, time.Minute)
	runtime.Goexit()
}

// lockToAThreadThatMayExit locks the goroutine to a thread other than the
// main one: Go never ends the main thread (a goroutine locked there that
// exits wedges it instead). A short sleep lets the scheduler move it.
func lockToAThreadThatMayExit() bool {
	for i := 0; i < 1000; i++ {
		runtime.LockOSThread()
		if syscall.Gettid() != syscall.Getpid() {
			return true
		}
		runtime.UnlockOSThread()
		time.Sleep(time.Millisecond)
	}
	return false
}
