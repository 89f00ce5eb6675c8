package main

// Hand-offs between requests over Go channels: the ground truth of braid's
// channel links. A /dispatch request sends its own trace id over a channel; the
// /receive request that gets it answers with that id in X-Handed-From, so the
// load generator's record says which request handed work to which.
//
//	GET /dispatch?via=V&wait=MS  waits MS ms, then sends over path V
//	GET /receive?via=V&wait=MS   waits MS ms, then receives over path V
//	GET /pool?items=N            prices N items on a worker pool (handler -> workers -> handler)
//
// Paths V:
//
//	unbuffered      a plain send and receive on an unbuffered channel
//	buffered        a channel of capacity 3: values wait in slots that wrap around
//	select          blocking selects on both sides, over an unbuffered and a buffered channel
//	select-nb-send  the sender polls a non-blocking select, the receiver blocks in a select
//	select-nb-recv  the receiver polls a non-blocking select, the sender blocks in a select
//
// A side left waiting for more than a second (the load stopped) is released by
// a janitor goroutine that has no span: it sends "none", or takes the value.

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type handoff struct{ from string }

// handoffPaths are the channels of the routes, made before any request.
type handoffPaths struct {
	unbuffered chan handoff
	buffered   chan handoff
	selA       chan handoff // unbuffered
	selB       chan handoff // capacity 2
	waiting    sync.Map     // *waiter -> struct{}
}

type waiter struct {
	since     time.Time
	channels  []chan handoff
	receiving bool
}

func newHandoffPaths() *handoffPaths {
	p := &handoffPaths{
		unbuffered: make(chan handoff),
		buffered:   make(chan handoff, 3),
		selA:       make(chan handoff),
		selB:       make(chan handoff, 2),
	}
	go p.janitor()
	return p
}

func (p *handoffPaths) channels(via string) []chan handoff {
	switch via {
	case "unbuffered":
		return []chan handoff{p.unbuffered}
	case "buffered":
		return []chan handoff{p.buffered}
	case "select", "select-nb-send", "select-nb-recv":
		return []chan handoff{p.selA, p.selB}
	}
	return nil
}

// path reads ?via= (answering 400 when it is unknown), then waits ?wait=MS.
func (p *handoffPaths) path(w http.ResponseWriter, r *http.Request) (string, []chan handoff) {
	via := r.URL.Query().Get("via")
	chans := p.channels(via)
	if chans == nil {
		http.Error(w, "unknown via", http.StatusBadRequest)
		return "", nil
	}
	if ms, err := strconv.Atoi(r.URL.Query().Get("wait")); err == nil && ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	return via, chans
}

func (p *handoffPaths) dispatch(w http.ResponseWriter, r *http.Request) {
	via, chans := p.path(w, r)
	if chans == nil {
		return
	}
	h := handoff{from: traceID(r)}
	done := p.wait(chans, false)
	defer done()
	switch via {
	case "unbuffered", "buffered":
		chans[0] <- h
	case "select", "select-nb-recv":
		select {
		case p.selA <- h:
		case p.selB <- h:
		}
	case "select-nb-send":
		for sent := false; !sent; {
			select {
			case p.selA <- h:
				sent = true
			case p.selB <- h:
				sent = true
			default:
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	w.Write([]byte("dispatched\n"))
}

func (p *handoffPaths) receive(w http.ResponseWriter, r *http.Request) {
	via, chans := p.path(w, r)
	if chans == nil {
		return
	}
	done := p.wait(chans, true)
	var h handoff
	switch via {
	case "unbuffered", "buffered":
		h = <-chans[0]
	case "select", "select-nb-send":
		select {
		case h = <-p.selA:
		case h = <-p.selB:
		}
	case "select-nb-recv":
		for got := false; !got; {
			select {
			case h = <-p.selA:
				got = true
			case h = <-p.selB:
				got = true
			default:
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	done()
	w.Header().Set("X-Handed-From", h.from)
	w.Write([]byte("received\n"))
}

// wait registers a side that may wait, for the janitor; done unregisters it.
func (p *handoffPaths) wait(chans []chan handoff, receiving bool) (done func()) {
	wt := &waiter{since: time.Now(), channels: chans, receiving: receiving}
	p.waiting.Store(wt, struct{}{})
	return func() { p.waiting.Delete(wt) }
}

// janitor releases sides that waited over a second, from a goroutine without a span.
func (p *handoffPaths) janitor() {
	for range time.Tick(250 * time.Millisecond) {
		p.waiting.Range(func(k, _ any) bool {
			wt := k.(*waiter)
			if time.Since(wt.since) < time.Second {
				return true
			}
			for _, c := range wt.channels {
				if wt.receiving {
					select {
					case c <- handoff{from: "none"}:
					default:
					}
				} else {
					select {
					case <-c:
					default:
					}
				}
			}
			return true
		})
	}
}

// traceID is the trace id of the request's traceparent header, or "none".
func traceID(r *http.Request) string {
	parts := strings.Split(r.Header.Get("traceparent"), "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return "none"
	}
	return parts[1]
}

// pricingJob is a slice of a cart for the worker pool, with where its quote goes.
type pricingJob struct {
	first, n int
	out      chan<- Quote
}

// startPricingPool starts workers that have no span: they serve every request.
func startPricingPool(workers int) chan<- pricingJob {
	jobs := make(chan pricingJob)
	for i := 0; i < workers; i++ {
		go func() {
			for j := range jobs {
				j.out <- quoteRange(j.first, j.n)
			}
		}()
	}
	return jobs
}

// pool answers what /api/cart does, priced by the worker pool in jobs of 50
// items: per job, the handler sends it and receives its quote, a worker the
// other way round.
func pool(jobs chan<- pricingJob) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		items, err := strconv.Atoi(r.URL.Query().Get("items"))
		if err != nil || items <= 0 || items > 10000 {
			items = 40
		}
		const perJob = 50
		quotes := make(chan Quote, (items+perJob-1)/perJob)
		for first := 0; first < items; first += perJob {
			jobs <- pricingJob{first: first, n: min(perJob, items-first), out: quotes}
		}
		total := Quote{Totals: map[string]int{}, Currency: "EUR"}
		for i := 0; i < cap(quotes); i++ {
			q := <-quotes
			total.Lines = append(total.Lines, q.Lines...)
			for k, v := range q.Totals {
				total.Totals[k] += v
			}
		}
		sort.Slice(total.Lines, func(i, j int) bool { return total.Lines[i].Name < total.Lines[j].Name })
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(total)
	}
}
