// Command loadgen drives an HTTP service with requests that carry known W3C
// traceparent headers, and records each one as a line of JSON: the ground
// truth that braid's spans are checked against.
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Record is one request as it was sent and answered.
type Record struct {
	Route        string `json:"route"`
	TraceID      string `json:"trace_id,omitempty"`
	ParentSpanID string `json:"parent_span_id,omitempty"`
	Status       int    `json:"status"`
	StartUnixNs  int64  `json:"start_unix_ns"`
	EndUnixNs    int64  `json:"end_unix_ns"`
	Reply        string `json:"reply,omitempty"` // the -reply-header of the response
	Proto        string `json:"proto,omitempty"` // the response's protocol: HTTP/1.1, HTTP/2.0
}

func main() {
	target := flag.String("target", "http://127.0.0.1:8080", "base URL of the service")
	routes := flag.String("routes", "/checkout?ms=3,/search?ms=3", "comma-separated paths, used in turn")
	concurrency := flag.Int("c", 2, "concurrent clients")
	duration := flag.Duration("d", 10*time.Second, "how long to send")
	count := flag.Int("n", 0, "stop after this many requests in all (0: only -d counts)")
	// SIGTERM or SIGINT ends the load early, as -d would: requests in flight are answered and recorded.
	withParent := flag.Bool("traceparent", true, "send a traceparent header with each request")
	out := flag.String("out", "", "file for the JSON-lines record (default: none)")
	replyHeader := flag.String("reply-header", "", "a response header to record as the request's reply")
	h2 := flag.Bool("h2", false, "HTTP/2: over TLS (any certificate is trusted), or without TLS with prior knowledge for an http:// target")
	flag.Parse()
	transport := newTransport(strings.HasPrefix(*target, "https://"), *h2)

	paths := strings.Split(*routes, ",")
	records := make(chan Record, 1024)
	var sent sync.WaitGroup
	deadline := time.Now().Add(*duration)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	var stopped atomic.Bool
	go func() { <-stop; stopped.Store(true) }()
	// From here on a signal ends the load gracefully: tell whoever waits for that.
	fmt.Println("sending")
	var budget chan struct{}
	if *count > 0 {
		budget = make(chan struct{}, *count)
		for i := 0; i < *count; i++ {
			budget <- struct{}{}
		}
		close(budget)
	}

	// Step 1: each client sends requests in turn over a keep-alive connection.
	for c := 0; c < *concurrency; c++ {
		sent.Add(1)
		go func(c int) {
			defer sent.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: transport}
			for i := c; time.Now().Before(deadline) && !stopped.Load(); i++ {
				if budget != nil {
					if _, ok := <-budget; !ok {
						return
					}
				}
				records <- send(client, *target, paths[i%len(paths)], *withParent, *replyHeader)
			}
		}(c)
	}
	go func() { sent.Wait(); close(records) }()

	// Step 2: write the ground truth.
	w := io.Discard
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	total, failed := 0, 0
	for r := range records {
		total++
		if r.Status == 0 {
			failed++
		}
		if err := enc.Encode(r); err != nil {
			log.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "loadgen: %d requests, %d failed\n", total, failed)
}

func send(client *http.Client, target, route string, withParent bool, replyHeader string) Record {
	rec := Record{Route: strings.SplitN(route, "?", 2)[0]}
	req, err := http.NewRequest(http.MethodGet, target+route, nil)
	if err != nil {
		log.Fatal(err)
	}
	if withParent {
		rec.TraceID, rec.ParentSpanID = randomHex(16), randomHex(8)
		req.Header.Set("traceparent", "00-"+rec.TraceID+"-"+rec.ParentSpanID+"-01")
	}
	rec.StartUnixNs = time.Now().UnixNano()
	resp, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rec.Status = resp.StatusCode
		rec.Proto = resp.Proto
		if replyHeader != "" {
			rec.Reply = resp.Header.Get(replyHeader)
		}
	}
	rec.EndUnixNs = time.Now().UnixNano()
	return rec
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		log.Fatal(err)
	}
	return hex.EncodeToString(b)
}
