// Command grpcload drives an Orders service (package orders) with RPCs that carry known W3C
// traceparents in their metadata, as OpenTelemetry's otelgrpc sends them, and records each one as
// a line of JSON: the ground truth that braid's spans are checked against. Its flags and records
// are loadgen's; a route is METHOD:N (N: the request's Int64Value).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"braid.dev/examples/grpc/orders"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Record is one RPC as it was sent and answered.
type Record struct {
	Route        string `json:"route"` // the full method: /braid.shop.Orders/Checkout
	TraceID      string `json:"trace_id,omitempty"`
	ParentSpanID string `json:"parent_span_id,omitempty"`
	Status       int    `json:"status"` // the gRPC status code: 0 is OK
	StartUnixNs  int64  `json:"start_unix_ns"`
	EndUnixNs    int64  `json:"end_unix_ns"`
	Messages     int    `json:"messages,omitempty"` // messages a server stream sent
}

type route struct {
	method string
	arg    int64
}

func main() {
	target := flag.String("target", "127.0.0.1:50051", "the Orders service (host:port, or http://host:port)")
	routes := flag.String("routes", "Checkout:3", "comma-separated METHOD:N, used in turn")
	concurrency := flag.Int("c", 2, "concurrent clients")
	duration := flag.Duration("d", 10*time.Second, "how long to send")
	count := flag.Int("n", 0, "stop after this many RPCs in all (0: only -d counts)")
	out := flag.String("out", "", "file for the JSON-lines record (default: none)")
	parent := flag.String("parent", "", "the parent span id of every traceparent (default: a random one per RPC)")
	flag.String("reply-header", "", "ignored (loadgen's flag)")
	flag.Bool("h2", true, "ignored (gRPC is HTTP/2)")
	flag.Parse()

	var plan []route
	for _, r := range strings.Split(*routes, ",") {
		name, arg, _ := strings.Cut(r, ":")
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			log.Fatalf("route %q: want METHOD:N", r)
		}
		plan = append(plan, route{"/" + orders.Service + "/" + name, n})
	}
	conn, err := grpc.NewClient(strings.TrimPrefix(*target, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	records := make(chan Record, 1024)
	var sent sync.WaitGroup
	deadline := time.Now().Add(*duration)
	var budget atomic.Int64
	budget.Store(int64(*count))
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	var stopped atomic.Bool
	go func() { <-stop; stopped.Store(true) }()
	// From here on a signal ends the load gracefully: tell whoever waits for that.
	fmt.Println("sending")

	// Step 1: each client sends RPCs in turn over the one connection.
	for c := 0; c < *concurrency; c++ {
		sent.Add(1)
		go func(c int) {
			defer sent.Done()
			for i := c; time.Now().Before(deadline) && !stopped.Load(); i++ {
				if *count > 0 && budget.Add(-1) < 0 {
					return
				}
				records <- call(conn, plan[i%len(plan)], *parent)
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
	total := 0
	for r := range records {
		total++
		if err := enc.Encode(r); err != nil {
			log.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "grpcload: %d RPCs\n", total)
}

// call makes one RPC with a fresh traceparent in its metadata.
func call(conn *grpc.ClientConn, r route, parent string) Record {
	rec := Record{Route: r.method, TraceID: randomHex(16), ParentSpanID: parent}
	if parent == "" {
		rec.ParentSpanID = randomHex(8)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", "00-"+rec.TraceID+"-"+rec.ParentSpanID+"-01")
	in := wrapperspb.Int64(r.arg)
	rec.StartUnixNs = time.Now().UnixNano()
	var err error
	if strings.HasSuffix(r.method, "/ListItems") {
		rec.Messages, err = listItems(ctx, conn, r.method, in)
	} else {
		err = conn.Invoke(ctx, r.method, in, new(wrapperspb.StringValue))
	}
	rec.EndUnixNs = time.Now().UnixNano()
	rec.Status = int(status.Code(err))
	return rec
}

func listItems(ctx context.Context, conn *grpc.ClientConn, method string, in *wrapperspb.Int64Value) (int, error) {
	stream, err := conn.NewStream(ctx, orders.ListItemsStream, method)
	if err != nil {
		return 0, err
	}
	if err := stream.SendMsg(in); err != nil {
		return 0, err
	}
	if err := stream.CloseSend(); err != nil {
		return 0, err
	}
	n := 0
	for {
		if err := stream.RecvMsg(new(wrapperspb.StringValue)); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		n++
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		log.Fatal(err)
	}
	return hex.EncodeToString(b)
}
