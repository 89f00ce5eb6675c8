#!/usr/bin/env bash
# What braid's channel probes add to each Go channel operation: examples/chanbench
# times unbuffered, buffered and select hand-offs, alternately without braid and
# with braid attached (rounds alternate so that drift hits both sides alike),
# and prints nanoseconds per operation with the BPF programs' own share.
#
#   bench/channels.sh [--rounds N] [--seconds S] [-- braid run options]
#
# Run it through ./braid bench --channels, which builds braid and finds the JDK.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=3 SECONDS_PER_MODE=3
BRAID_ARGS=()
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_MODE="$2"; shift 2 ;;
    --) shift; BRAID_ARGS=("$@"); break ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done

JAVA="${JAVA_HOME:?run through ./braid bench --channels}/bin/java"
JAR="$ROOT/daemon/target/braid.jar"
BENCH="$ROOT/examples/target/bin/chanbench"
WORK="$(mktemp -d)"
PINS="/sys/fs/bpf/braid-bench-$$"
mkdir -p "$PINS"
STATS_BEFORE="$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)"
cleanup() {
  [[ -n ${BRAID_PID:-} ]] && kill "$BRAID_PID" 2>/dev/null && wait "$BRAID_PID" 2>/dev/null || true
  sysctl -qw kernel.bpf_stats_enabled="$STATS_BEFORE" 2>/dev/null || true
  rm -rf "$PINS" "$WORK"
}
trap cleanup EXIT
sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null || true

echo "bench: Go channel operations, $ROUNDS rounds of ${SECONDS_PER_MODE}s per mode each way, $(nproc) CPUs"
for r in $(seq "$ROUNDS"); do
  "$BENCH" -d "${SECONDS_PER_MODE}s" | sed 's/^/without /' >>"$WORK/results"
  : >"$WORK/braid.out"
  # shellcheck disable=SC2086
  "$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow ${BRAID_JAVA_OPTS:-} -jar "$JAR" run \
    --exe "$BENCH" --pin-path "$PINS" --out "$WORK/out" --log-level warn "${BRAID_ARGS[@]}" >"$WORK/braid.out" 2>"$WORK/braid.err" &
  BRAID_PID=$!
  for _ in $(seq 300); do grep -qx ready "$WORK/braid.out" && break; sleep 0.1; done
  grep -qx ready "$WORK/braid.out" || { echo "bench: braid did not get ready:" >&2; cat "$WORK/braid.err" >&2; exit 1; }
  # braid probes a new process of the binary within a second of its start: chanbench waits 2 s.
  bpftool -j prog show 2>/dev/null >"$WORK/progs-before.json" || true
  "$BENCH" -settle 2s -d "${SECONDS_PER_MODE}s" | sed 's/^/with /' >>"$WORK/results"
  bpftool -j prog show 2>/dev/null >"$WORK/progs.json" || true
  kill "$BRAID_PID"; wait "$BRAID_PID" || true; BRAID_PID=
done

python3 - "$WORK/results" "$WORK/progs-before.json" "$WORK/progs.json" <<'PY'
import json, statistics, sys
runs = {}
ops_with = 0
for line in open(sys.argv[1]):
    side, mode, ns, ops = line.split()
    runs.setdefault(mode, {}).setdefault(side, []).append(float(ns))
    if side == "with":
        ops_with += int(ops)
print(f"  {'mode':<11} {'without':>9} {'with braid':>11} {'added':>9}   (ns per operation, medians)")
for mode, sides in runs.items():
    a, b = statistics.median(sides["without"]), statistics.median(sides["with"])
    print(f"  {mode:<11} {a:9.1f} {b:11.1f} {b - a:9.1f}")
before = {p["id"]: p for p in json.load(open(sys.argv[2]))}
for p in json.load(open(sys.argv[3])):
    if not p.get("name", "").startswith(("chan_", "select_", "go_")):
        continue
    b = before.get(p["id"], {})
    cnt, ns = p.get("run_cnt", 0) - b.get("run_cnt", 0), p.get("run_time_ns", 0) - b.get("run_time_ns", 0)
    if cnt:
        print(f"  {p['name']:<16} {cnt:10d} hits in the last round  {ns / cnt:6.0f} ns/hit in BPF")
PY
