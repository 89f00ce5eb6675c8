// Command otelapi is braid's ground truth for --auto-sdk: a net/http service that makes manual
// spans with the OpenTelemetry API (go.opentelemetry.io/otel) and registers no SDK, the programs
// that go.opentelemetry.io/auto/sdk was made for. Without a writer that takes the SDK's place, its
// spans record nothing.
//
//	GET /compute?ms=N   a span "compute" (attribute work.ms, an event "priced") around N ms in apiCompute
//	GET /nested?ms=N    a span "outer": N ms in apiOuter, then its child "inner" around N ms in apiInner
//	GET /plain?ms=N     no span: N ms in apiPlain
//
// With -otelhttp its handlers are wrapped by otelhttp, whose SERVER span per request is the API's
// too (a no-op without an SDK).
// With -spans FILE it writes every span it ended, one JSON object per line: its name, the trace of
// the request it served (from the request's traceparent), whether it was recording, and the trace
// id the API shows for it (all zero unless an SDK that writes IDs into the program recorded it;
// braid's --auto-sdk does not).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

var tracer = otel.Tracer("braid.dev/examples/otel/otelapi")

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	spans := flag.String("spans", "", "write every span it ended to this file, one JSON object per line")
	wrap := flag.Bool("otelhttp", false, "wrap the handlers with otelhttp (a SERVER span per request, through the API)")
	flag.Parse()

	out := io.Discard
	if *spans != "" {
		f, err := os.Create(*spans)
		if err != nil {
			log.Fatal(err)
		}
		out = f
	}
	ended := &spanLog{enc: json.NewEncoder(out)}

	mux := http.NewServeMux()
	mux.HandleFunc("/compute", func(w http.ResponseWriter, r *http.Request) {
		ms := milliseconds(r)
		_, span := tracer.Start(r.Context(), "compute", trace.WithAttributes(attribute.Int64("work.ms", ms)))
		x := apiCompute(time.Duration(ms) * time.Millisecond)
		span.AddEvent("priced")
		ended.end(r, span, "compute")
		fmt.Fprintf(w, "compute %d\n", x)
	})
	mux.HandleFunc("/nested", func(w http.ResponseWriter, r *http.Request) {
		d := time.Duration(milliseconds(r)) * time.Millisecond
		ctx, outer := tracer.Start(r.Context(), "outer")
		x := apiOuter(d)
		_, inner := tracer.Start(ctx, "inner")
		x += apiInner(d)
		ended.end(r, inner, "inner")
		ended.end(r, outer, "outer")
		fmt.Fprintf(w, "nested %d\n", x)
	})
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "plain %d\n", apiPlain(time.Duration(milliseconds(r))*time.Millisecond))
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	var handler http.Handler = mux
	if *wrap {
		handler = otelhttp.NewHandler(mux, "otelapi")
	}
	srv := &http.Server{Handler: handler, ErrorLog: log.New(io.Discard, "", 0)}
	log.Fatal(srv.Serve(ln))
}

func milliseconds(r *http.Request) int64 {
	ms, err := strconv.ParseInt(r.URL.Query().Get("ms"), 10, 64)
	if err != nil || ms < 0 {
		return 2
	}
	return ms
}

// spanLog ends spans and writes what the API shows of each.
type spanLog struct {
	mu  sync.Mutex
	enc *json.Encoder
}

type endedSpan struct {
	Name         string `json:"name"`
	RequestTrace string `json:"request_trace_id"`
	TraceID      string `json:"trace_id"`
	Recording    bool   `json:"recording"` // an SDK (or braid) recorded it; else it was the API's no-op
}

func (l *spanLog) end(r *http.Request, span trace.Span, name string) {
	recording := span.IsRecording()
	span.End()
	request := ""
	if parts := strings.Split(r.Header.Get("traceparent"), "-"); len(parts) == 4 {
		request = parts[1]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.enc.Encode(endedSpan{Name: name, RequestTrace: request, TraceID: span.SpanContext().TraceID().String(), Recording: recording})
}

// Each function burns CPU for d in a loop of its own, so that a sample's innermost Go frame
// names the work it was taken in.

//go:noinline
func apiCompute(d time.Duration) uint64 { return work(d, 0x9e3779b97f4a7c15) }

//go:noinline
func apiOuter(d time.Duration) uint64 { return work(d, 0xc2b2ae3d27d4eb4f) }

//go:noinline
func apiInner(d time.Duration) uint64 { return work(d, 0x165667b19e3779f9) }

//go:noinline
func apiPlain(d time.Duration) uint64 { return work(d, 0xc4ceb9fe1a85ec53) }

// work is inlined into each caller: multiply-xorshift rounds until d has passed.
func work(d time.Duration, x uint64) uint64 {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		for i := 0; i < 1<<14; i++ {
			x = (x ^ x>>31) * 0xbf58476d1ce4e5b9
		}
	}
	return x
}
