// Package orders is the gRPC service of braid's gRPC examples, written without protoc: its
// messages are protobuf's well-known wrappers, its service descriptor is spelled out here.
//
//	braid.shop.Orders/Checkout   unary: burns ?ms in priceOrder, answers
//	braid.shop.Orders/Fail       unary: burns in failOrder, answers INTERNAL (an error on a server)
//	braid.shop.Orders/Reject     unary: burns in rejectOrder, answers NOT_FOUND (no error on a server)
//	braid.shop.Orders/ListItems  server streaming: n messages, each burns 1 ms in streamItem
//	braid.shop.Orders/Relay      unary: calls Checkout on another Orders service, then burns in relayReply
//	braid.shop.Orders/RelayFail  unary: calls Fail on another Orders service, and answers its error
//	braid.shop.Orders/RelayItems unary: reads ListItems of another Orders service, then burns in relayReply
package orders

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Service is the full name of the service.
const Service = "braid.shop.Orders"

// Server is what an Orders server implements.
type Server interface {
	Checkout(context.Context, *wrapperspb.Int64Value) (*wrapperspb.StringValue, error)
	Fail(context.Context, *wrapperspb.Int64Value) (*wrapperspb.StringValue, error)
	Reject(context.Context, *wrapperspb.Int64Value) (*wrapperspb.StringValue, error)
	Relay(context.Context, *wrapperspb.Int64Value) (*wrapperspb.StringValue, error)
	RelayFail(context.Context, *wrapperspb.Int64Value) (*wrapperspb.StringValue, error)
	RelayItems(context.Context, *wrapperspb.Int64Value) (*wrapperspb.StringValue, error)
	ListItems(*wrapperspb.Int64Value, grpc.ServerStream) error
}

// unary adapts one unary method to grpc's handler signature.
func unary(name string, call func(Server, context.Context, *wrapperspb.Int64Value) (*wrapperspb.StringValue, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.Int64Value)
			if err := dec(in); err != nil {
				return nil, err
			}
			handler := func(ctx context.Context, req any) (any, error) {
				return call(srv.(Server), ctx, req.(*wrapperspb.Int64Value))
			}
			if interceptor == nil {
				return handler(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + Service + "/" + name}, handler)
		},
	}
}

// Desc is the service as grpc.Server.RegisterService takes it.
var Desc = grpc.ServiceDesc{
	ServiceName: Service,
	HandlerType: (*Server)(nil),
	Methods: []grpc.MethodDesc{
		unary("Checkout", Server.Checkout),
		unary("Fail", Server.Fail),
		unary("Reject", Server.Reject),
		unary("Relay", Server.Relay),
		unary("RelayFail", Server.RelayFail),
		unary("RelayItems", Server.RelayItems),
	},
	Streams: []grpc.StreamDesc{{
		StreamName:    "ListItems",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(wrapperspb.Int64Value)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			return srv.(Server).ListItems(in, stream)
		},
	}},
}

// ListItemsStream describes ListItems for a client's NewStream.
var ListItemsStream = &grpc.StreamDesc{StreamName: "ListItems", ServerStreams: true}
