// Command grpcshop is braid's gRPC ground-truth workload: the Orders service (package orders),
// each method burning CPU in a function of its own, so that a CPU profile can be checked against
// the trace that asked for the work. With -spinners K it also runs K goroutines that burn CPU in
// compactIndex forever without serving any RPC. With -relay-to ADDR, Relay calls Checkout there.
// With -truth FILE it writes which goroutine served which RPC, and when (truth.go): the
// conformance suite's ground truth.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"time"

	"braid.dev/examples/grpc/orders"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "listen address (port 0 picks a free port)")
	spinners := flag.Int("spinners", 0, "goroutines that burn CPU outside any RPC")
	relayTo := flag.String("relay-to", "", "the Orders service that Relay calls")
	truth := flag.String("truth", "", "write goroutine, trace id, start and end of every RPC to this file")
	flag.Parse()

	// Step 1: untraced background work, started before any RPC exists.
	for i := 0; i < *spinners; i++ {
		go compactIndex(uint64(i))
	}
	// Step 2: the client Relay uses, if any.
	s := &shop{}
	if *relayTo != "" {
		conn, err := grpc.NewClient(strings.TrimPrefix(*relayTo, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			log.Fatal(err)
		}
		s.backend = conn
	}
	// Step 3: listen, then tell the caller where (tests read this line).
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	var options []grpc.ServerOption
	if *truth != "" {
		t, err := openTruthLog(*truth)
		if err != nil {
			log.Fatal(err)
		}
		options = t.options()
	}
	srv := grpc.NewServer(options...)
	srv.RegisterService(&orders.Desc, s)
	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	log.Fatal(srv.Serve(ln))
}

type shop struct {
	backend *grpc.ClientConn
}

func (*shop) Checkout(_ context.Context, in *wrapperspb.Int64Value) (*wrapperspb.StringValue, error) {
	return wrapperspb.String(fmt.Sprint("priced ", priceOrder(ms(in)))), nil
}

func (*shop) Fail(_ context.Context, in *wrapperspb.Int64Value) (*wrapperspb.StringValue, error) {
	failOrder(ms(in))
	return nil, status.Error(codes.Internal, "failing on purpose")
}

func (*shop) Reject(_ context.Context, in *wrapperspb.Int64Value) (*wrapperspb.StringValue, error) {
	rejectOrder(ms(in))
	return nil, status.Error(codes.NotFound, "no such order")
}

func (s *shop) Relay(ctx context.Context, in *wrapperspb.Int64Value) (*wrapperspb.StringValue, error) {
	if s.backend == nil {
		return nil, status.Error(codes.FailedPrecondition, "started without -relay-to")
	}
	out := new(wrapperspb.StringValue)
	if err := s.backend.Invoke(ctx, "/"+orders.Service+"/Checkout", in, out); err != nil {
		return nil, err
	}
	return wrapperspb.String(fmt.Sprint(out.GetValue(), " relayed ", relayReply(ms(in)))), nil
}

func (s *shop) RelayFail(ctx context.Context, in *wrapperspb.Int64Value) (*wrapperspb.StringValue, error) {
	if s.backend == nil {
		return nil, status.Error(codes.FailedPrecondition, "started without -relay-to")
	}
	return nil, s.backend.Invoke(ctx, "/"+orders.Service+"/Fail", in, new(wrapperspb.StringValue))
}

func (s *shop) RelayItems(ctx context.Context, in *wrapperspb.Int64Value) (*wrapperspb.StringValue, error) {
	if s.backend == nil {
		return nil, status.Error(codes.FailedPrecondition, "started without -relay-to")
	}
	stream, err := s.backend.NewStream(ctx, orders.ListItemsStream, "/"+orders.Service+"/ListItems")
	if err != nil {
		return nil, err
	}
	if err := stream.SendMsg(in); err != nil {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	n := 0
	for {
		if err := stream.RecvMsg(new(wrapperspb.StringValue)); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		n++
	}
	return wrapperspb.String(fmt.Sprint(n, " items relayed ", relayReply(ms(in)))), nil
}

func (*shop) ListItems(in *wrapperspb.Int64Value, stream grpc.ServerStream) error {
	for i := int64(0); i < in.GetValue(); i++ {
		if err := stream.SendMsg(wrapperspb.String(fmt.Sprint("item ", streamItem(time.Millisecond)))); err != nil {
			return err
		}
	}
	return nil
}

// ms is the request's milliseconds of work.
func ms(in *wrapperspb.Int64Value) time.Duration {
	return time.Duration(in.GetValue()) * time.Millisecond
}

// Each method burns CPU in a function of its own: spin and churn are inlined
// into it, so that its samples' leaf is that function.

//go:noinline
func priceOrder(d time.Duration) uint64 { return spin(rounds(d), 0x9e3779b97f4a7c15) }

//go:noinline
func failOrder(d time.Duration) uint64 { return spin(rounds(d), 0xc2b2ae3d27d4eb4f) }

//go:noinline
func rejectOrder(d time.Duration) uint64 { return spin(rounds(d), 0x165667b19e3779f9) }

//go:noinline
func relayReply(d time.Duration) uint64 { return spin(rounds(d), 0x27d4eb2f165667c5) }

//go:noinline
func streamItem(d time.Duration) uint64 { return spin(rounds(d), 0x85ebca77c2b2ae63) }

// compactIndex never returns: it is the busy goroutine that serves no RPC.
//
//go:noinline
func compactIndex(seed uint64) {
	for {
		seed = spin(1000, seed|1)
	}
}

// spin does n rounds of churn; with no call to the clock it is small enough to be inlined.
func spin(n int64, x uint64) uint64 {
	for ; n > 0; n-- {
		x = churn(x)
	}
	return x
}

// roundTime is how long one churn takes here, measured once at start.
var roundTime = func() time.Duration {
	const n = 200
	start := time.Now()
	sink = spin(n, 1)
	return max(time.Since(start)/n, time.Nanosecond)
}()

var sink uint64

// rounds is how many churns take about d of CPU.
func rounds(d time.Duration) int64 { return int64(d / roundTime) }

// churn is a few thousand rounds of xorshift: small enough to be inlined.
func churn(x uint64) uint64 {
	for i := 0; i < 1<<14; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
