#!/usr/bin/env bash
# `POST /orders` alone: wrk bursts against the order service of the release local stack.
#
#   deploy/bench/post-orders.sh                  # 3 runs of a 3 s burst, 64 connections
#   ALONE=1 deploy/bench/post-orders.sh          # the other services SIGSTOPped during each burst
#   RUNS=5 DURATION=5 CONNECTIONS=128 SKIP_BUILD=1 deploy/bench/post-orders.sh
#   BIN_DIR=/tmp/base-bin SKIP_BUILD=1 deploy/bench/post-orders.sh   # another commit's binaries
#
# Each run starts a fresh stack (STACK_DIR .stack-bench-post, PostgreSQL on port 25437) with
# ORDER_MAX_PENDING lifted to 10,000,000, so that admission control does not answer 503 (issue 11,
# point 3: "with the backpressure bound lifted"), runs one `wrk -t2 -c$CONNECTIONS -d${DURATION}s`
# with deploy/bench/post-orders.lua, and stops the stack. Without ALONE, the burst's orders flow
# through every saga while it runs, as they would. It prints each run's requests/s and non-2xx
# count, and the median.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

RUNS=${RUNS:-3}
DURATION=${DURATION:-3}
CONNECTIONS=${CONNECTIONS:-64}
export STACK_DIR=${BENCH_STACK_DIR:-$ROOT/.stack-bench-post}
export PG_PORT=${BENCH_PG_PORT:-25437}
export CONFIG=release
export ORDER_MAX_PENDING=10000000

"$ROOT/deploy/local/deps.sh"
if ! command -v wrk >/dev/null 2>&1; then
    echo "post-orders: installing wrk"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
cd "$ROOT"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "building (release)..."
    swift build -c release >/dev/null
fi
export SKIP_BUILD=1
trap '"$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1 || true' EXIT

rates=()
for run in $(seq 1 "$RUNS"); do
    "$ROOT/deploy/local/stack.sh" up >"$STACK_DIR.up.log" 2>&1 || { tail -20 "$STACK_DIR.up.log" >&2; exit 1; }
    others=()
    if [ "${ALONE:-0}" = 1 ]; then
        for name in payment inventory notification saga; do others+=("$(cat "$STACK_DIR/pids/$name-1.pid")"); done
        kill -STOP "${others[@]}"
    fi
    output=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$ROOT/deploy/bench/post-orders.lua" http://127.0.0.1:8081/orders)
    if [ ${#others[@]} -gt 0 ]; then kill -CONT "${others[@]}"; fi
    rate=$(awk '/^Requests\/sec:/ {print $2}' <<<"$output")
    failed=$(awk '/Non-2xx/ {print $NF}' <<<"$output")
    latency=$(awk '/^ +Latency/ {print $2}' <<<"$output")
    echo "run $run: $rate requests/s, mean latency $latency, non-2xx ${failed:-0}"
    rates+=("$rate")
    "$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1
done
printf '%s\n' "${rates[@]}" | python3 -c '
import statistics, sys
rates = [float(line) for line in sys.stdin if line.strip()]
print("requests/s: " + " · ".join(f"{r:,.0f}" for r in rates) + f", median {statistics.median(rates):,.0f}")
'
alone=""
[ "${ALONE:-0}" = 1 ] && alone=", the other services stopped"
echo "commit $(git rev-parse --short HEAD)${BIN_DIR:+ (binaries from $BIN_DIR)}, $RUNS runs of ${DURATION} s, $CONNECTIONS connections$alone"
