// Command execer is a short-lived Go service for churn tests: it serves a few
// requests and then ends in one of the ways a process can end under a tracer.
//
//	/work?ms=N   burns N ms of CPU in work and answers
//	/exit?ms=N   burns N ms, then exits (status 3) inside the handler: a request in flight
//	/exec        answers, then replaces itself (execve, same pid) with the program
//	             given by -then, with the arguments after -- as its own
//
// It prints "listening on HOST:PORT" once it listens.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	then := flag.String("then", "", "the program /exec replaces this one with")
	flag.Parse()

	mux := http.NewServeMux()
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "work %d\n", work(millis(r)))
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		work(millis(r))
		os.Exit(3)
	})
	mux.HandleFunc("/exec", func(w http.ResponseWriter, r *http.Request) {
		if *then == "" {
			http.Error(w, "no -then program", http.StatusBadRequest)
			return
		}
		// With its length, the flushed answer is whole: a chunked one would wait for its last
		// chunk, which the exec may cut on a slow machine.
		answer := "exec " + *then + "\n"
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		io.WriteString(w, answer)
		w.(http.Flusher).Flush()
		go func() {
			time.Sleep(10 * time.Millisecond) // the answer leaves first
			err := syscall.Exec(*then, append([]string{*then}, flag.Args()...), os.Environ())
			log.Fatalf("exec %s: %v", *then, err)
		}()
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

func millis(r *http.Request) time.Duration {
	ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
	return time.Duration(ms) * time.Millisecond
}

// work does integer work for d and returns a result so that it is not optimized away.
//
//go:noinline
func work(d time.Duration) uint64 {
	x := uint64(0x9e3779b97f4a7c15)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 1000; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	return x
}
