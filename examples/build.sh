#!/usr/bin/env bash
# Builds the Go programs of examples/ into $1 (default: target/bin).
# Each program is built with DWARF (the default) and once more stripped
# (-s -w), so that tests cover both ways offsets are found.
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-target/bin}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
for prog in shop loadgen chanbench pinned execer; do
  go build -o "$out/$prog" "./$prog"
done
go build -ldflags='-s -w' -o "$out/shop-stripped" ./shop
go build -buildmode=pie -o "$out/shop-pie" ./shop
CGO_ENABLED=1 go build -o "$out/native" ./native
# The gRPC examples are a module of their own (google.golang.org/grpc, from the Go module proxy).
(cd grpc && go build -o "$out/grpcshop" ./grpcshop && go build -o "$out/grpcload" ./grpcload)
# The OpenTelemetry examples too (the SDK, otelhttp, otelgrpc, and the API alone; from the Go module proxy).
(cd otel && go build -o "$out/otelshop" ./otelshop && go build -o "$out/otelapi" ./otelapi)
