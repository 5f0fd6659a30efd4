#!/usr/bin/env bash
# Replay throughput: how many events per second `replay` rebuilds a read model from the log.
#
#   deploy/bench/replay-throughput.sh            # 1,000,000 events, 3 runs each, release build
#   ORDERS=100000 RUNS=5 deploy/bench/replay-throughput.sh
#   BIN_DIR=/tmp/base-bin deploy/bench/replay-throughput.sh   # another commit's binaries, no build
#
# Starts its own PostgreSQL (.stack-bench/, port 25434, fsync on: the defaults a user has) and a
# development broker whose orders.events has 64 partitions (the mock keeps at most ~5 MiB of
# lz4 batches per partition, so 1M events need that many), writes ORDERS orders (two events
# each: OrderPlaced, OrderApproved) with `seed-events`, then times, RUNS times each:
#   - `replay order --dry-run`  (read + decode + dedup only)
#   - `replay order --as-of <future> --into bench_replay`  (the full rebuild: read, decode,
#     dedup, the order projection's apply in batches of BATCH events into a fresh schema)
#   - `replay order --from-snapshot --as-of <future> --into bench_replay`  (the same rebuild from a
#     snapshot 90% of the log old: the first 90% of the orders are seeded, rebuilt into the live
#     model (with its projection offsets, as the service would have left it) and snapshotted with
#     `replay snapshot order`, then the last 10% are seeded)
# and prints every run and the medians. Results also go to bench-results/replay-<time>.txt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

ORDERS=${ORDERS:-500000}
RUNS=${RUNS:-3}
BATCH=${BATCH:-2000}
BENCH_DIR=${BENCH_DIR:-$ROOT/.stack-bench}
BENCH_PG_PORT=${BENCH_PG_PORT:-25434}
CONFIG=${CONFIG:-release}

"$ROOT/deploy/local/deps.sh"
cd "$ROOT"
if [ -n "${BIN_DIR:-}" ]; then
    bin=$BIN_DIR
else
    echo "building ($CONFIG)..."
    swift build -c "$CONFIG" --product replay >/dev/null
    swift build -c "$CONFIG" --product seed-events >/dev/null
    swift build -c "$CONFIG" --product dev-broker >/dev/null
    bin=$(swift build -c "$CONFIG" --show-bin-path)
fi

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR/broker" "$ROOT/bench-results"
broker_pid=""
cleanup() {
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
    pg_stop "$BENCH_DIR/pg" || true
}
trap cleanup EXIT

pg_start "$BENCH_DIR/pg" "$BENCH_PG_PORT" "max_connections=50"
as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE bench" >/dev/null
url="postgresql://postgres@127.0.0.1:$BENCH_PG_PORT/bench"

printf '# the replay benchmark: one event topic, 64 partitions\norders.events 64\n' >"$BENCH_DIR/topics.txt"
"$bin/dev-broker" --topics "$BENCH_DIR/topics.txt" --bootstrap-file "$BENCH_DIR/broker/bootstrap" \
    --control-file "$BENCH_DIR/broker/control" >"$BENCH_DIR/broker.log" 2>&1 &
broker_pid=$!
wait_file "$BENCH_DIR/broker/control" 30

events=$((ORDERS * 2))
old_orders=$((ORDERS * 9 / 10))
echo "seeding $events events ($((old_orders * 2)), then a snapshot, then the rest)..."
"$bin/seed-events" --orders "$old_orders" --bootstrap-file "$BENCH_DIR/broker/bootstrap" --database-url "$url"

export DATABASE_URL=$url KAFKA_BOOTSTRAP_FILE=$BENCH_DIR/broker/bootstrap TOPICS_FILE=$BENCH_DIR/topics.txt
export RDKAFKA_FETCH_WAIT_MAX_MS=10 STACK_DIR=$BENCH_DIR
psql_bench() { as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$BENCH_PG_PORT" -U postgres -d bench -v ON_ERROR_STOP=1 -qAt "$@"; }

# The live model of the first 90%, as the order service would have left it, then its snapshot.
report=$("$bin/replay" order --as-of 2100-01-01T00:00:00Z --into bench_live --progress log --json 2>>"$BENCH_DIR/replay.log")
psql_bench -c "INSERT INTO public.orders SELECT * FROM bench_live.orders; DROP SCHEMA bench_live CASCADE" \
    -c "INSERT INTO projection_offsets (topic, partition, next_offset)
        SELECT 'orders.events', key::int, value::bigint FROM jsonb_each_text('$report'::jsonb -> 'offsets')"
"$bin/replay" snapshot order | tee -a "$BENCH_DIR/replay.log"
"$bin/seed-events" --first "$old_orders" --orders "$((ORDERS - old_orders))" --bootstrap-file "$BENCH_DIR/broker/bootstrap" \
    --database-url "$url"

# Prints the seconds and the events/s of one replay run (its last line: "<seconds> s, <rate> events/s";
# the rate counts the events read: from a snapshot, only those after it).
run_once() {
    local out
    out=$("$bin/replay" order "$@" --batch-size "$BATCH" --progress log 2>>"$BENCH_DIR/replay.log")
    echo "$out" >>"$BENCH_DIR/replay.log"
    echo "$out" | tail -n 1 | awk '{print $1, $3}'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

result="$ROOT/bench-results/replay-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
    echo "replay throughput: $events events ($ORDERS orders) in orders.events, 64 partitions, lz4; batch $BATCH; $CONFIG build"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), fsync on"
} | tee "$result"

for mode in dry-run rebuild from-snapshot; do
    rates=()
    times=()
    for ((i = 1; i <= RUNS; i++)); do
        if [ "$mode" = dry-run ]; then
            rate=$(run_once --dry-run)
        elif [ "$mode" = rebuild ]; then
            rate=$(run_once --as-of 2100-01-01T00:00:00Z --into bench_replay)
        else
            rate=$(run_once --from-snapshot --as-of 2100-01-01T00:00:00Z --into bench_replay)
        fi
        times+=("${rate% *}")
        rates+=("${rate#* }")
        echo "  $mode run $i: ${rate% *} s, ${rate#* } events/s" | tee -a "$result"
    done
    echo "$mode median: $(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}') s," \
        "$(printf '%s\n' "${rates[@]}" | median) events/s" | tee -a "$result"
done
echo "results in $result (replay output in $BENCH_DIR/replay.log)"
