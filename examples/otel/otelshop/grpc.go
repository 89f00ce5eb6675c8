package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// serveGRPC serves braid.shop.Orders (the service examples/grpc's grpcload drives) with otelgrpc's
// stats handler, which makes a SERVER span per RPC from the incoming traceparent:
//
//	Checkout(N)  a span "compute" around N ms in priceCompute
//	Plain(N)     no manual span: N ms in plainBurn, in otelgrpc's span only
func serveGRPC(ln net.Listener) error {
	srv := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler()))
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "braid.shop.Orders",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unary("Checkout", func(ctx context.Context, d time.Duration) string {
				_, span := tracer.Start(ctx, "compute")
				defer span.End()
				return fmt.Sprint("priced ", priceCompute(d))
			}),
			unary("Plain", func(_ context.Context, d time.Duration) string {
				return fmt.Sprint("plain ", plainBurn(d))
			}),
		},
	}, struct{}{})
	return srv.Serve(ln)
}

// unary is a method that takes an Int64Value (milliseconds of work) and answers a StringValue.
func unary(name string, call func(context.Context, time.Duration) string) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.Int64Value)
			if err := dec(in); err != nil {
				return nil, err
			}
			return wrapperspb.String(call(ctx, time.Duration(in.GetValue())*time.Millisecond)), nil
		},
	}
}
