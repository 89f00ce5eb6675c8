#!/usr/bin/env bash
# The floor under any uprobe-based tracer on this machine: what one uprobe hit
# costs with a BPF program that does nothing (bench/uprobe-floor/floor.c).
# braid's per-request cost is roughly its hits per request times this, plus
# its BPF programs' own time and its daemon.
#
#   bench/uprobe-floor.sh [ROUNDS]
#
# Needs root, clang and libbpf-dev (./braid bench --uprobe-floor checks both).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/bench/uprobe-floor"
OUT="$ROOT/bench/target/uprobe-floor"
mkdir -p "$OUT"
for tool in clang cc; do command -v "$tool" >/dev/null || { echo "bench: $tool is missing: apt-get install clang libbpf-dev" >&2; exit 2; }; done
clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu -c "$SRC/noop.bpf.c" -o "$OUT/noop.bpf.o"
cc -O2 -o "$OUT/floor" "$SRC/floor.c" -lbpf
exec "$OUT/floor" "$OUT/noop.bpf.o" "${1:-5}"
