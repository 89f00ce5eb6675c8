// Command shop is braid's ground-truth workload: an HTTP service whose routes
// each burn CPU in a function of their own, so that a CPU profile can be
// checked against the trace that asked for the work.
//
//	GET /checkout?ms=N      burns N ms in priceCart
//	GET /search?ms=N        burns N ms in rankResults
//	GET /hello              answers at once (the benchmark's worst case)
//	GET /api/cart?items=N   prices a cart of N items and answers JSON (the benchmark route)
//	GET /fail               answers 500
//	GET /panic              panics (net/http closes the connection; its goroutine exits)
//	GET /chain?to=URL&ms=N  calls URL with net/http's client, then burns in composeReply
//	GET /wait/chan?ms=N     waits on a channel, then burns in afterChannel
//	GET /wait/sleep?ms=N    sleeps, then burns in afterSleep
//	GET /wait/syscall?ms=N  blocks in a raw syscall, then burns in afterSyscall
//	GET /wait/socket?ms=N   waits for a socket read, then burns in afterSocketRead
//	GET /locked?ms=N        burns in lockedBurn on a thread locked to the goroutine
//	GET /spawn?ms=N         returns at once; a goroutine it started burns in spawnedBurn
//	GET /dispatch, /receive hand a request's trace id to another request over a channel
//	GET /pool?items=N       /api/cart priced on a worker pool, 50 items a job (handoff.go)
//	GET /limited?ms=N       burns N ms in priceCart, at most two requests at a time (a chan struct{} semaphore)
//	GET /burst?n=N          N goroutines started in the request, all alive at once, each burning a little in burstWork (burst.go)
//	GET /hold?key=K         burns in holdBurn until /release?key=K comes (at most a minute): a request
//	                        that lasts exactly as long as a test needs (hold.go)
//
// With -tls it serves HTTPS, and so HTTP/2 to clients that offer it (ALPN h2), as every Go HTTPS
// server does; with -h2c also HTTP/2 without TLS (h2.go). /chain calls HTTPS services that have
// a self-signed certificate, over HTTP/2.
//
// With -spinners K it also runs K goroutines that burn CPU in compactIndex
// forever without serving any request: no sample of theirs may carry a span.
// With -truth FILE it writes which goroutine served which request, and when
// (truth.go): the conformance suite's ground truth.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	spinners := flag.Int("spinners", 0, "goroutines that burn CPU outside any request")
	truth := flag.String("truth", "", "write goroutine, trace id, start and end of every request to this file")
	useTLS := flag.Bool("tls", false, "serve HTTPS (a self-signed certificate made at start): HTTP/2 for clients that offer it")
	h2c := flag.Bool("h2c", false, "also serve HTTP/2 without TLS to clients with prior knowledge (Go 1.24+)")
	flag.Parse()

	// Step 1: untraced background work, started before any request exists.
	for i := 0; i < *spinners; i++ {
		go compactIndex(uint64(i))
	}
	ticks := make(chan struct{})
	go tick(ticks)
	echo := startSlowEcho()
	paths := newHandoffPaths()
	jobs := startPricingPool(4)

	// Step 2: one route per burn function.
	mux := http.NewServeMux()
	mux.HandleFunc("/checkout", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "checkout %d\n", priceCart(burnDuration(r)))
	})
	mux.HandleFunc("/search", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "search %d\n", rankResults(burnDuration(r)))
	})
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello\n"))
	})
	mux.HandleFunc("/api/cart", func(w http.ResponseWriter, r *http.Request) {
		items, err := strconv.Atoi(r.URL.Query().Get("items"))
		if err != nil || items <= 0 || items > 10000 {
			items = 40
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(quote(items))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "failing on purpose", http.StatusInternalServerError)
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		panic("panicking on purpose")
	})
	mux.HandleFunc("/chain", func(w http.ResponseWriter, r *http.Request) {
		resp, err := chainClient.Get(r.URL.Query().Get("to"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Fprintf(w, "chain %d %d\n", resp.StatusCode, composeReply(burnDuration(r)))
	})
	mux.HandleFunc("/wait/chan", func(w http.ResponseWriter, r *http.Request) {
		<-ticks
		fmt.Fprintf(w, "chan %d\n", afterChannel(burnDuration(r)))
	})
	mux.HandleFunc("/wait/sleep", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * time.Millisecond)
		fmt.Fprintf(w, "sleep %d\n", afterSleep(burnDuration(r)))
	})
	mux.HandleFunc("/wait/syscall", func(w http.ResponseWriter, r *http.Request) {
		ts := syscall.Timespec{Nsec: 3_000_000}
		syscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafePointer(&ts)), 0, 0)
		fmt.Fprintf(w, "syscall %d\n", afterSyscall(burnDuration(r)))
	})
	mux.HandleFunc("/wait/socket", func(w http.ResponseWriter, r *http.Request) {
		conn, err := net.Dial("tcp", echo)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer conn.Close()
		fmt.Fprintln(conn, "ping")
		bufio.NewReader(conn).ReadString('\n')
		fmt.Fprintf(w, "socket %d\n", afterSocketRead(burnDuration(r)))
	})
	mux.HandleFunc("/locked", func(w http.ResponseWriter, r *http.Request) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		fmt.Fprintf(w, "locked %d\n", lockedBurn(burnDuration(r)))
	})
	mux.HandleFunc("/spawn", func(w http.ResponseWriter, r *http.Request) {
		d := burnDuration(r)
		go func() {
			time.Sleep(time.Millisecond) // the handler has returned by now
			spawnedBurn(d)
		}()
		fmt.Fprintln(w, "spawned")
	})

	mux.HandleFunc("/burst", burst)

	holds := newHolds()
	mux.HandleFunc("/hold", holds.hold)
	mux.HandleFunc("/release", holds.release)
	mux.HandleFunc("/thread-exit", holds.threadExit)

	mux.HandleFunc("/dispatch", paths.dispatch)
	mux.HandleFunc("/receive", paths.receive)
	mux.HandleFunc("/pool", pool(jobs))
	limiter := make(chan struct{}, 2)
	mux.HandleFunc("/limited", func(w http.ResponseWriter, r *http.Request) {
		limiter <- struct{}{}
		defer func() { <-limiter }()
		fmt.Fprintf(w, "limited %d\n", priceCart(burnDuration(r)))
	})

	// Step 3: listen, then tell the caller where (tests and the demo read this line).
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	// The /panic route's stack trace is noise: net/http logs it through ErrorLog.
	var handler http.Handler = mux
	if *truth != "" {
		t, err := openTruthLog(*truth)
		if err != nil {
			log.Fatal(err)
		}
		handler = t.wrap(mux)
	}
	srv := &http.Server{Handler: handler, ErrorLog: log.New(io.Discard, "", 0)}
	if *h2c {
		serveUnencryptedHTTP2(srv)
	}
	if *useTLS {
		srv.TLSConfig = selfSignedTLS()
		log.Fatal(srv.ServeTLS(ln, "", ""))
	}
	log.Fatal(srv.Serve(ln))
}

// burnDuration reads ?ms=N (default 2 ms).
func burnDuration(r *http.Request) time.Duration {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		ms = 2
	}
	return time.Duration(ms) * time.Millisecond
}

// Line is one priced item of a cart.
type Line struct {
	SKU      string   `json:"sku"`
	Name     string   `json:"name"`
	Quantity int      `json:"quantity"`
	Price    float64  `json:"price"`
	Tags     []string `json:"tags"`
}

// Quote is what /api/cart answers: a typical JSON API's work of building,
// filling and encoding a few dozen small structs.
type Quote struct {
	Lines    []Line         `json:"lines"`
	Totals   map[string]int `json:"totals"`
	Currency string         `json:"currency"`
}

func quote(items int) Quote {
	return quoteRange(0, items)
}

// quoteRange prices items first to first+n-1 of a cart.
func quoteRange(first, n int) Quote {
	q := Quote{Totals: map[string]int{}, Currency: "EUR"}
	for i := first; i < first+n; i++ {
		l := Line{
			SKU:      "sku-" + strconv.Itoa(i*7919%10007),
			Name:     "item " + strconv.Itoa(i),
			Quantity: 1 + i%3,
			Price:    float64(i%97) * 1.25,
			Tags:     []string{"tag" + strconv.Itoa(i%5), "shop"},
		}
		q.Lines = append(q.Lines, l)
		q.Totals[l.Tags[0]] += l.Quantity
	}
	return q
}

// tick feeds /wait/chan from a goroutine that serves no request.
func tick(ticks chan<- struct{}) {
	for {
		time.Sleep(2 * time.Millisecond)
		ticks <- struct{}{}
	}
}

// startSlowEcho answers each line after 3 ms, for /wait/socket.
func startSlowEcho() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				time.Sleep(3 * time.Millisecond)
				io.WriteString(c, line)
			}()
		}
	}()
	return ln.Addr().String()
}

// Each route burns CPU in a function of its own, which a profile shows as the
// function the CPU was in (churn is inlined into it).

//go:noinline
func priceCart(d time.Duration) uint64 {
	x, deadline := uint64(0x9e3779b97f4a7c15), time.Now().Add(d)
	for time.Now().Before(deadline) {
		x = churn(x)
	}
	return x
}

//go:noinline
func rankResults(d time.Duration) uint64 {
	x, deadline := uint64(0xc2b2ae3d27d4eb4f), time.Now().Add(d)
	for time.Now().Before(deadline) {
		x = churn(x)
	}
	return x
}

//go:noinline
func composeReply(d time.Duration) uint64 {
	x, deadline := uint64(0x165667b19e3779f9), time.Now().Add(d)
	for time.Now().Before(deadline) {
		x = churn(x)
	}
	return x
}

//go:noinline
func afterChannel(d time.Duration) uint64 {
	x, deadline := uint64(0x27d4eb2f165667c5), time.Now().Add(d)
	for time.Now().Before(deadline) {
		x = churn(x)
	}
	return x
}

//go:noinline
func afterSleep(d time.Duration) uint64 {
	x, deadline := uint64(0x85ebca77c2b2ae63), time.Now().Add(d)
	for time.Now().Before(deadline) {
		x = churn(x)
	}
	return x
}

//go:noinline
func afterSyscall(d time.Duration) uint64 {
	x, deadline := uint64(0xff51afd7ed558ccd), time.Now().Add(d)
	for time.Now().Before(deadline) {
		x = churn(x)
	}
	return x
}

//go:noinline
func afterSocketRead(d time.Duration) uint64 {
	x, deadline := uint64(0xc4ceb9fe1a85ec53), time.Now().Add(d)
	for time.Now().Before(deadline) {
		x = churn(x)
	}
	return x
}

//go:noinline
func lockedBurn(d time.Duration) uint64 {
	x, deadline := uint64(0x9fb21c651e98df25), time.Now().Add(d)
	for time.Now().Before(deadline) {
		x = churn(x)
	}
	return x
}

//go:noinline
func spawnedBurn(d time.Duration) uint64 {
	x, deadline := uint64(0x2545f4914f6cdd1d), time.Now().Add(d)
	for time.Now().Before(deadline) {
		x = churn(x)
	}
	return x
}

// churn is a few thousand rounds of xorshift: small enough to be inlined.
func churn(x uint64) uint64 {
	for i := 0; i < 1<<14; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
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
		x = churn(x)
		if !time.Now().Before(deadline) {
			return x
		}
	}
}
