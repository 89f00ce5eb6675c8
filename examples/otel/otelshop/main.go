// Command otelshop is braid's ground truth for services that make their own
// spans with the OpenTelemetry Go SDK: net/http wrapped by otelhttp (a SERVER
// span per request, continuing the incoming traceparent), and manual spans
// around work that burns CPU in a function of its own.
//
//	GET /compute?ms=N   a span "compute" around N ms in priceCompute
//	GET /nested?ms=N    a span "outer": N ms in outerBurn, then a span "inner"
//	                    around N ms in innerBurn, then N ms in outerTail
//	GET /spawn?ms=N     a span "fanout" whose goroutine burns N ms in spawnedCompute
//	GET /handoff?ms=N   a span "handed" that another goroutine ends; then N ms
//	                    in afterHandedEnd, outside it
//	GET /delegate?ms=N  a span "delegated" that a goroutine it starts ends; that
//	                    goroutine then burns N ms in afterDelegatedEnd, outside it
//	GET /plain?ms=N     no manual span: N ms in plainBurn, in otelhttp's span only
//
// With -grpc it serves gRPC instead, with otelgrpc's spans (grpc.go). With -otelhttp=false its
// handlers are not wrapped: its manual spans are roots, traces of their own.
//
// With -truth FILE it logs each request's goroutine and handler interval, as
// shop does, for the conformance audit. With -spans FILE the SDK's exporter writes every span it exports, one JSON
// object per line (names, IDs, parent, kind), the last ones when SIGTERM
// stops it: the spans the application exports, against which braid's samples
// are checked. With -spinners K, K
// goroutines burn CPU in compactIndex outside any span.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

var tracer trace.Tracer

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	spinners := flag.Int("spinners", 0, "goroutines that burn CPU outside any span")
	spans := flag.String("spans", "", "write every span the SDK exports to this file, one JSON object per line")
	serveGrpc := flag.Bool("grpc", false, "serve gRPC (braid.shop.Orders, with otelgrpc) instead of HTTP")
	wrap := flag.Bool("otelhttp", true, "wrap the handlers with otelhttp (a SERVER span per request)")
	truth := flag.String("truth", "", "log each request's goroutine and handler interval to this file (conformance audit)")
	flag.Parse()

	exporter := &fileExporter{out: io.Discard, clock: readMonotonicOrigin()}
	if *spans != "" {
		f, err := os.Create(*spans)
		if err != nil {
			log.Fatal(err)
		}
		exporter.out = f
	}
	// A batcher, as services use it: End only queues the span (it never blocks), and the file is
	// complete once the provider has shut down, on SIGTERM. The queue is large enough to drop nothing.
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter,
		sdktrace.WithMaxQueueSize(1<<20), sdktrace.WithMaxExportBatchSize(4096), sdktrace.WithBatchTimeout(100*time.Millisecond)))
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		provider.Shutdown(context.Background())
		os.Exit(0)
	}()
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	tracer = provider.Tracer("braid.dev/examples/otel/otelshop")

	for i := 0; i < *spinners; i++ {
		go compactIndex(uint64(i))
	}
	handed := startEnder()

	mux := http.NewServeMux()
	mux.HandleFunc("/compute", func(w http.ResponseWriter, r *http.Request) {
		_, span := tracer.Start(r.Context(), "compute")
		x := priceCompute(burnDuration(r))
		span.End()
		fmt.Fprintf(w, "compute %d\n", x)
	})
	mux.HandleFunc("/nested", func(w http.ResponseWriter, r *http.Request) {
		d := burnDuration(r)
		ctx, outer := tracer.Start(r.Context(), "outer")
		x := outerBurn(d)
		_, inner := tracer.Start(ctx, "inner")
		x += innerBurn(d)
		inner.End()
		x += outerTail(d)
		outer.End()
		fmt.Fprintf(w, "nested %d\n", x)
	})
	mux.HandleFunc("/spawn", func(w http.ResponseWriter, r *http.Request) {
		d := burnDuration(r)
		_, span := tracer.Start(r.Context(), "fanout")
		var wg sync.WaitGroup
		var x uint64
		wg.Add(1)
		go func() {
			defer wg.Done()
			x = spawnedCompute(d)
		}()
		wg.Wait()
		span.End()
		fmt.Fprintf(w, "spawn %d\n", x)
	})
	mux.HandleFunc("/handoff", func(w http.ResponseWriter, r *http.Request) {
		_, span := tracer.Start(r.Context(), "handed")
		done := make(chan struct{})
		handed <- handOff{span, done}
		<-done
		fmt.Fprintf(w, "handoff %d\n", afterHandedEnd(burnDuration(r)))
	})
	mux.HandleFunc("/delegate", func(w http.ResponseWriter, r *http.Request) {
		d := burnDuration(r)
		_, span := tracer.Start(r.Context(), "delegated")
		result := make(chan uint64)
		go func() {
			span.End()
			result <- afterDelegatedEnd(d)
		}()
		fmt.Fprintf(w, "delegate %d\n", <-result)
	})
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "plain %d\n", plainBurn(burnDuration(r)))
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	if *serveGrpc {
		log.Fatal(serveGRPC(ln))
	}
	var handler http.Handler = mux
	if *truth != "" {
		t, err := openTruthLog(*truth)
		if err != nil {
			log.Fatal(err)
		}
		handler = t.wrap(handler)
	}
	if *wrap {
		handler = otelhttp.NewHandler(handler, "otelshop")
	}
	srv := &http.Server{Handler: handler, ErrorLog: log.New(io.Discard, "", 0)}
	log.Fatal(srv.Serve(ln))
}

// handOff is a span that another goroutine ends, and how it says it did.
type handOff struct {
	span trace.Span
	done chan struct{}
}

// startEnder starts the goroutine that ends the spans handed to it.
func startEnder() chan<- handOff {
	c := make(chan handOff)
	go func() {
		for h := range c {
			h.span.End()
			close(h.done)
		}
	}()
	return c
}

func burnDuration(r *http.Request) time.Duration {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		ms = 2
	}
	return time.Duration(ms) * time.Millisecond
}

// fileExporter writes each span as a JSON line.
type fileExporter struct {
	mu    sync.Mutex
	out   io.Writer
	clock monotonicOrigin
}

// monotonicOrigin pairs a time.Time with the CLOCK_MONOTONIC reading of the same instant, so that
// a span's times can be given in CLOCK_MONOTONIC (the truth log's and eBPF's clock) from the
// monotonic reading the SDK's times carry. Their wall reading is taken apart from it (time.Now reads
// the two clocks one after the other): a thread preempted in between shifts a span's wall times,
// and a sample late in the span would look as if it came after its end.
type monotonicOrigin struct {
	at   time.Time
	nano int64
}

// readMonotonicOrigin takes the tightest of many readings: time.Now between two raw clock reads.
func readMonotonicOrigin() monotonicOrigin {
	best := monotonicOrigin{}
	bestGap := int64(-1)
	for i := 0; i < 1000; i++ {
		before := monotonicNanos()
		at := time.Now()
		after := monotonicNanos()
		if gap := after - before; bestGap < 0 || gap < bestGap {
			best, bestGap = monotonicOrigin{at: at, nano: before + gap/2}, gap
		}
	}
	return best
}

// monotonicNanos of t, through t's monotonic reading (Sub uses it when both times have one, as the
// SDK's do unless the application gave its own timestamps).
func (o monotonicOrigin) monotonicNanos(t time.Time) int64 {
	return o.nano + int64(t.Sub(o.at))
}

type exportedSpan struct {
	Name         string `json:"name"`
	TraceID      string `json:"trace_id"`
	SpanID       string `json:"span_id"`
	ParentSpanID string `json:"parent_span_id"`
	Kind         string `json:"kind"`
	StartUnixNs  int64  `json:"start_unix_ns"`
	EndUnixNs    int64  `json:"end_unix_ns"`
	StartMonoNs  int64  `json:"start_monotonic_ns"`
	EndMonoNs    int64  `json:"end_monotonic_ns"`
}

func (e *fileExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	enc := json.NewEncoder(e.out)
	for _, s := range spans {
		parent := ""
		if s.Parent().IsValid() {
			parent = s.Parent().SpanID().String()
		}
		if err := enc.Encode(exportedSpan{
			Name: s.Name(), TraceID: s.SpanContext().TraceID().String(), SpanID: s.SpanContext().SpanID().String(),
			ParentSpanID: parent, Kind: s.SpanKind().String(), StartUnixNs: s.StartTime().UnixNano(), EndUnixNs: s.EndTime().UnixNano(),
			StartMonoNs: e.clock.monotonicNanos(s.StartTime()), EndMonoNs: e.clock.monotonicNanos(s.EndTime()),
		}); err != nil {
			return err
		}
	}
	return nil
}

func (e *fileExporter) Shutdown(context.Context) error { return nil }
