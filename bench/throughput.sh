#!/usr/bin/env bash
# Throughput of an example Go service without and with braid attached, in one
# run: rounds alternate (without, with, without, with, ...) so that drift of
# the machine hits both sides alike. Prints each round, the medians and the
# ratio with/without, and what braid adds per request cut into its daemon, its
# BPF programs and the uprobe traps (with the kernel around them), and each probe's hits.
#
# braid is a long-running daemon: each "with" round starts it, lets its JIT
# compiler warm up under the same load for --warmup seconds, then measures.
#
#   bench/throughput.sh [--rounds N] [--seconds S] [--warmup S] [--route PATH | --grpc METHOD:N] [--h2] [--connections C]
#                       [--service NAME]
#                       [--versus "braid run options"] [-- braid run options]
#
# --grpc measures the gRPC example (grpcshop) under grpcload instead of shop under
# wrk: unary calls of METHOD with argument N (Checkout:0 is an RPC that does nothing,
# Checkout:1 burns 1 ms), over one connection with --connections concurrent callers.
#
# --h2 sends the route over HTTP/2 without TLS (h2c, prior knowledge) with the example's
# loadgen instead of wrk, which speaks HTTP/1.1 only: net/http's HTTP/2 server, one connection.
#
# --service runs another HTTP example of examples/ under wrk: otelshop makes its own spans with
# the OpenTelemetry Go SDK (--route /compute?ms=1: otelhttp's span and a manual one around 1 ms of
# CPU; /plain?ms=0: otelhttp's span around nothing); otelapi makes manual spans with the
# OpenTelemetry API alone, which braid records with -- --auto-sdk (/compute?ms=1).
#
# With --versus, the "without" rounds run braid too, with those options: the
# ratio is then one braid setting against another (--versus --no-channel-links).
#
# Run it through ./braid bench, which builds braid and finds the JDK.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The default route is a JSON API handler of ~180 us of CPU per request (a cart of
# 200 priced items); /hello (~10 us) shows the worst case: braid's fixed cost per
# request (~9 probe hits, ~14 us of CPU) against a handler that does nothing.
ROUNDS=3 SECONDS_PER_ROUND=10 WARMUP=15 ROUTE=/api/cart?items=200 CONNECTIONS=32 GRPC= H2= SERVICE_NAME=shop
BRAID_ARGS=() VERSUS=()
while (($#)); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_ROUND="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --route) ROUTE="$2"; shift 2 ;;
    --grpc) GRPC="$2"; shift 2 ;;
    --h2) H2=1; shift ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --service) SERVICE_NAME="$2"; shift 2 ;;
    --versus) read -r -a VERSUS <<<"$2"; shift 2 ;;
    --) shift; BRAID_ARGS=("$@"); break ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done

JAVA="${JAVA_HOME:?run through ./braid bench}/bin/java"
JAR="$ROOT/daemon/target/braid.jar"
BIN="$ROOT/examples/target/bin"
SERVICE="$BIN/${GRPC:+grpc}$SERVICE_NAME"
WORK="$(mktemp -d)"
PINS="/sys/fs/bpf/braid-bench-$$"
mkdir -p "$PINS"
cleanup() {
  [[ -n ${BRAID_PID:-} ]] && kill "$BRAID_PID" 2>/dev/null && wait "$BRAID_PID" 2>/dev/null || true
  [[ -n ${SERVICE_PID:-} ]] && kill "$SERVICE_PID" 2>/dev/null || true
  rm -rf "$PINS" "$WORK"
}
trap cleanup EXIT

[[ -n $GRPC$H2 ]] || command -v wrk >/dev/null || { echo "bench: wrk is missing: apt-get install wrk" >&2; exit 2; }

SERVICE_ARGS=()
[[ -n $H2 ]] && SERVICE_ARGS=(-h2c)
"$SERVICE" -addr 127.0.0.1:0 "${SERVICE_ARGS[@]}" >"$WORK/service.out" 2>&1 &
SERVICE_PID=$!
for _ in $(seq 50); do grep -q "listening on" "$WORK/service.out" && break; sleep 0.1; done
ADDR="$(sed -n 's/^listening on //p' "$WORK/service.out")"

# Requests (or RPCs) per second of a load of $1 seconds.
if [[ -n $GRPC ]]; then
  TARGET="grpc://$ADDR ${GRPC%%:*} (argument ${GRPC#*:})"
  load_rps() { "$BIN/grpcload" -target "$ADDR" -routes "$GRPC" -c "$CONNECTIONS" -d "${1}s" 2>&1 >/dev/null | awk -v s="$1" '/^grpcload: [0-9]+ RPCs/ { print $2 / s }'; }
elif [[ -n $H2 ]]; then
  TARGET="http://$ADDR$ROUTE over HTTP/2 (h2c)"
  # Answered requests only: loadgen counts the failed ones too.
  load_rps() {
    "$BIN/loadgen" -h2 -traceparent=false -target "http://$ADDR" -routes "$ROUTE" -c "$CONNECTIONS" -d "${1}s" 2>&1 >/dev/null |
      awk -v s="$1" '/^loadgen: [0-9]+ requests/ { if ($2 == $4) { print "bench: every request failed" > "/dev/stderr"; exit 1 } print ($2 - $4) / s }'
  }
else
  TARGET="http://$ADDR$ROUTE"
  load_rps() { wrk -t2 -c"$CONNECTIONS" -d"${1}s" "$TARGET" | awk '/Requests\/sec:/ { print $2 }'; }
fi

# CPU time (user + system, in clock ticks) of a process: the service, and braid.
ticks() { [[ -n ${1:-} && -r /proc/$1/stat ]] && awk '{ print $14 + $15 }' "/proc/$1/stat" || echo 0; }
HZ="$(getconf CLK_TCK)"
# The daemon's CPU time by what its threads do: its pipeline (ring buffers, correlator, writers),
# GC (Serial GC runs in the VM thread), the JIT compilers, and the rest; clock ticks, 4 fields.
daemon_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s\t%s\n' "$(cat "$t/comm" 2>/dev/null)" "$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null)"
  done | awk -F'\t' '$1 == "braid-pipeline" { p += $2; next } $1 == "VM Thread" { g += $2; next }
    $1 ~ /^C[12] CompilerThre/ { j += $2; next } { o += $2 } END { print p + 0, g + 0, j + 0, o + 0 }'
}

start_braid() {
  : >"$WORK/braid.out"
  # BRAID_JAVA_OPTS: the daemon's JVM options, as ./braid run uses them.
  # shellcheck disable=SC2086
  "$JAVA" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow ${BRAID_JAVA_OPTS:-} -jar "$JAR" run \
    --exe "$SERVICE" --pin-path "$PINS" --out "$WORK/out" --log-level warn "$@" >"$WORK/braid.out" 2>"$WORK/braid.err" &
  BRAID_PID=$!
  for _ in $(seq 300); do grep -qx ready "$WORK/braid.out" && return 0; sleep 0.1; done
  echo "bench: braid did not get ready:" >&2; cat "$WORK/braid.err" >&2; exit 1
}
stop_braid() { kill "$BRAID_PID"; wait "$BRAID_PID" || true; BRAID_PID=; }

# Per-program run counts need kernel.bpf_stats_enabled; restored at the end.
STATS_BEFORE="$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)"
sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null || true
trap 'sysctl -qw kernel.bpf_stats_enabled='"$STATS_BEFORE"' 2>/dev/null || true; cleanup' EXIT

# Probe cost of a round: hits per request and nanoseconds per hit, from bpftool's run counts
# and times (kernel.bpf_stats_enabled); the last line is the BPF time per request in us.
probe_cost() {
  python3 - "$WORK/progs-before.json" "$WORK/progs.json" "$1" "$SECONDS_PER_ROUND" <<'PY'
import json, sys
names = ("go_", "http_", "http2_", "grpc_", "sdk_", "auto_", "chan_", "select_", "on_cpu_sample", "thread_exit", "client_socket", "add_traceparent")
before = {p["id"]: p for p in json.load(open(sys.argv[1]))}
after = [p for p in json.load(open(sys.argv[2])) if p.get("name", "").startswith(names)]
requests = float(sys.argv[3]) * float(sys.argv[4])
total_hits = total_ns = 0
for p in sorted(after, key=lambda p: p["name"]):
    b = before.get(p["id"], {})
    cnt = p.get("run_cnt", 0) - b.get("run_cnt", 0)
    ns = p.get("run_time_ns", 0) - b.get("run_time_ns", 0)
    if cnt:
        total_hits += cnt
        total_ns += ns
        print(f"  {p['name']:<18} {cnt / requests:6.2f} hits/request  {ns / cnt:7.0f} ns/hit in BPF")
if total_hits:
    print(f"  {'all programs':<18} {total_hits / requests:6.2f} hits/request  {total_ns / total_hits:7.0f} ns/hit in BPF, {total_ns / requests / 1000:.2f} us/request")
print(f"{total_ns / requests / 1000:.3f}")
PY
}

echo "bench: $TARGET, $CONNECTIONS connections, $ROUNDS rounds of ${SECONDS_PER_ROUND}s each way (braid warmed up ${WARMUP}s), $(nproc) CPUs"
((${#VERSUS[@]})) && echo "bench: \"without\" is braid run ${VERSUS[*]}"
load_rps 3 >/dev/null # warm-up
without=() with=() cpu_without=() cpu_with=() daemon_share=() daemon_rss=() daemon_us=() bpf_us=() trap_us=()
pipeline_us=() gc_us=() jit_us=() other_us=()
for r in $(seq "$ROUNDS"); do
  if ((${#VERSUS[@]})); then
    start_braid "${VERSUS[@]}"
    load_rps "$WARMUP" >/dev/null
  fi
  s0="$(ticks "$SERVICE_PID")" v0="$(ticks "${BRAID_PID:-}")"
  a="$(load_rps "$SECONDS_PER_ROUND")"
  s1="$(ticks "$SERVICE_PID")" v1="$(ticks "${BRAID_PID:-}")"
  [[ -n ${BRAID_PID:-} ]] && stop_braid
  start_braid "${BRAID_ARGS[@]}"
  load_rps "$WARMUP" >/dev/null
  # Probe hits of the measured window: bpftool reports each program's run count and time.
  bpftool -j prog show 2>/dev/null >"$WORK/progs-before.json" || true
  t0="$(ticks "$SERVICE_PID")" b0="$(ticks "$BRAID_PID")" d0="$(daemon_ticks "$BRAID_PID")"
  b="$(load_rps "$SECONDS_PER_ROUND")"
  t1="$(ticks "$SERVICE_PID")" b1="$(ticks "$BRAID_PID")" d1="$(daemon_ticks "$BRAID_PID")"
  rss="$(awk '/^VmRSS:/ { print $2 / 1024 }' "/proc/$BRAID_PID/status" 2>/dev/null || echo 0)"
  bpftool -j prog show 2>/dev/null >"$WORK/progs.json" || true
  stop_braid
  # CPU per request: the shop alone; then the shop (probes included) plus braid's daemon.
  cw="$(echo "($s1 - $s0 + $v1 - $v0) * 1000000 / $HZ / ($a * $SECONDS_PER_ROUND)" | bc -l)"
  cb="$(echo "($t1 - $t0 + $b1 - $b0) * 1000000 / $HZ / ($b * $SECONDS_PER_ROUND)" | bc -l)"
  cd="$(echo "($b1 - $b0) * 1000000 / $HZ / ($b * $SECONDS_PER_ROUND)" | bc -l)"
  share="$(echo "($b1 - $b0) * 100 / $HZ / $SECONDS_PER_ROUND" | bc -l)"
  probes="$(probe_cost "$b" 2>/dev/null || echo 0)"
  bu="$(tail -1 <<<"$probes")"
  # What braid adds per request, cut three ways: its daemon; its BPF programs (bpftool's run
  # time); and the rest, which is the uprobe traps and the kernel's work around them.
  tu="$(echo "$cb - $cw - $cd - $bu" | bc -l)"
  without+=("$a") with+=("$b") cpu_without+=("$cw") cpu_with+=("$cb") daemon_share+=("$share") daemon_rss+=("$rss")
  daemon_us+=("$cd") bpf_us+=("$bu") trap_us+=("$tu")
  read -r pu gu ju ou < <(awk -v a="$d0" -v b="$d1" -v hz="$HZ" -v n="$(echo "$b * $SECONDS_PER_ROUND" | bc -l)" \
    'BEGIN { split(a, x, " "); split(b, y, " "); for (i = 1; i <= 4; i++) printf "%s ", (y[i] - x[i]) * 1000000 / hz / n; print "" }')
  pipeline_us+=("$pu") gc_us+=("$gu") jit_us+=("$ju") other_us+=("$ou")
  printf 'round %d: without %8.0f req/s %6.1f us CPU/request   with braid %8.0f req/s %6.1f us CPU/request (daemon %.1f us, %.1f%% of a CPU, RSS %.0f MiB)\n' \
    "$r" "$a" "$cw" "$b" "$cb" "$cd" "$share" "$rss"
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mw="$(median "${without[@]}")" mb="$(median "${with[@]}")"
cw="$(median "${cpu_without[@]}")" cb="$(median "${cpu_with[@]}")"
printf 'median:  without %8.0f req/s %6.1f us CPU/request   with braid %8.0f req/s %6.1f us CPU/request\n' "$mw" "$cw" "$mb" "$cb"
printf 'ratio:   throughput %.3f   CPU per request %.3f (the second is steadier on a shared machine)\n' \
  "$(echo "$mb / $mw" | bc -l)" "$(echo "$cw / $cb" | bc -l)"
printf 'daemon:  %.1f%% of a CPU, RSS %.0f MiB (medians; braid run %s)\n' "$(median "${daemon_share[@]}")" "$(median "${daemon_rss[@]}")" "${BRAID_ARGS[*]:-with defaults}"
printf 'split:   braid adds %.1f us CPU/request: daemon %.1f us, BPF programs %.1f us, uprobe traps and kernel %.1f us (medians)\n' \
  "$(echo "$(median "${cpu_with[@]}") - $(median "${cpu_without[@]}")" | bc -l)" "$(median "${daemon_us[@]}")" "$(median "${bpf_us[@]}")" "$(median "${trap_us[@]}")"
printf 'threads: daemon %.1f us CPU/request: pipeline thread %.1f us, GC %.1f us, JIT compilers %.1f us, other threads %.1f us (medians; the JIT'"'"'s share shrinks as braid runs longer than --warmup)\n' \
  "$(median "${daemon_us[@]}")" "$(median "${pipeline_us[@]}")" "$(median "${gc_us[@]}")" "$(median "${jit_us[@]}")" "$(median "${other_us[@]}")"
echo "probes (last round):"
head -n -1 <<<"$probes"

