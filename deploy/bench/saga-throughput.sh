#!/usr/bin/env bash
# Saga throughput and latency: the load generator against the release local stack.
#
#   deploy/bench/saga-throughput.sh                  # every mode, 3 runs each
#   RUNS=5 SECONDS_PER_RUN=60 deploy/bench/saga-throughput.sh
#   MODES="ramp 100" deploy/bench/saga-throughput.sh
#   SKIP_BUILD=1 deploy/bench/saga-throughput.sh     # what is built already (no rebuild)
#   BIN_DIR=/tmp/base-bin SKIP_BUILD=1 deploy/bench/saga-throughput.sh   # another commit's binaries
#
# For each run it starts a fresh local stack (STACK_DIR .stack-bench-saga, PostgreSQL on port
# 25435, fsync on: what a user gets from `CONFIG=release make up`), runs `loadgen --json` once, reads
# every service's /metrics (batch sizes and times) and every process's peak RSS (VmHWM), and stops
# the stack. Modes:
#   ramp  RAMP (default 100:100:5000) in stages of STAGE_SECONDS (10): the highest sustained rate
#   100   100 orders/s for SECONDS_PER_RUN (30)
#   1000  1,000 orders/s for SECONDS_PER_RUN
#   max   the median highest sustained rate of the ramp runs, for SECONDS_PER_RUN
# It prints every run and the medians, and writes them to bench-results/saga-<time>.md (a Markdown
# table for docs/benchmarks.md) and the raw JSON reports beside it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

RUNS=${RUNS:-3}
MODES=${MODES:-"ramp 100 1000 max"}
RAMP=${RAMP:-100:100:5000}
STAGE_SECONDS=${STAGE_SECONDS:-10}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-30}
CONNECTIONS=${CONNECTIONS:-64}
export STACK_DIR=${BENCH_STACK_DIR:-$ROOT/.stack-bench-saga}
export PG_PORT=${BENCH_PG_PORT:-25435}
export CONFIG=release

"$ROOT/deploy/local/deps.sh"
cd "$ROOT"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    echo "building (release)..."
    swift build -c release >/dev/null
fi
bin=${BIN_DIR:-$(swift build -c release --show-bin-path)}
# Every run starts what was built here, unchanged by later edits or builds until the next run.
export SKIP_BUILD=1
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out_dir="$ROOT/bench-results/saga-$stamp"
mkdir -p "$out_dir"
trap '"$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1 || true' EXIT

# Per service: batches, messages consumed, seconds in batches (sums from /metrics).
metrics_line() {
    local name=$1 port=$2 text
    text=$(curl -s "http://127.0.0.1:$port/metrics")
    python3 - "$name" "$text" <<'PY'
import re, sys
name, text = sys.argv[1], sys.argv[2]
def total(metric):
    return sum(float(v) for v in re.findall(r'^' + metric + r'(?:\{[^}]*\})? ([0-9.e+-]+)$', text, re.M))
batches = total('batch_duration_seconds_count')
seconds = total('batch_duration_seconds_sum')
consumed = total('messages_consumed_total')
def phase(name):
    values = re.findall(r'^batch_phase_seconds_(sum|count)\{[^}]*phase="' + name + r'"[^}]*\} ([0-9.e+-]+)$', text, re.M)
    parts = dict(values)
    count = float(parts.get("count", 0))
    return 1000 * float(parts.get("sum", 0)) / count if count else 0
print(f"{name}: {int(batches)} batches, {consumed / batches if batches else 0:.1f} messages per batch, "
      f"{1000 * seconds / batches if batches else 0:.1f} ms per batch (produce + commit); phases (ms): "
      + ", ".join(f"{p} {phase(p):.1f}" for p in ("decide", "journal", "produce", "commit", "vacuum")))
PY
}

run_one() {
    local mode=$1 run=$2 args
    case $mode in
        ramp) args=(--ramp "$RAMP" --stage-seconds "$STAGE_SECONDS") ;;
        max) args=(--rate "$MAX_RATE" --duration "$SECONDS_PER_RUN") ;;
        *) args=(--rate "$mode" --duration "$SECONDS_PER_RUN") ;;
    esac
    "$ROOT/deploy/local/stack.sh" up >"$out_dir/$mode-$run.stack.log" 2>&1
    "$bin/loadgen" "${args[@]}" --connections "$CONNECTIONS" --bootstrap-file "$STACK_DIR/broker/bootstrap" \
        --progress log --json >"$out_dir/$mode-$run.json" 2>"$out_dir/$mode-$run.progress.log"
    {
        for service in "order 8081" "payment 8082" "inventory 8083" "notification 8084" "saga 8085"; do
            # shellcheck disable=SC2086
            metrics_line $service
        done
    } >"$out_dir/$mode-$run.metrics.txt"
    # Peak resident memory of every process of the stack during the run (VmHWM), for issue 11's
    # "each service ≤ 120 MiB RSS under the maximum load".
    for pidfile in "$STACK_DIR"/pids/*.pid; do
        awk -v name="$(basename "$pidfile" .pid)" '/^VmHWM:/ {printf "%s %.1f\n", name, $2 / 1024}' \
            "/proc/$(cat "$pidfile")/status" 2>/dev/null || true
    done >"$out_dir/$mode-$run.rss.txt"
    "$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1
    python3 - "$out_dir/$mode-$run.json" "$mode" "$run" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency"]
extra = f", highest sustained {r['highestSustainedRate']:.0f}/s" if r.get("highestSustainedRate") is not None else ""
print(f"{sys.argv[2]} run {sys.argv[3]}: {r['sustainedSagasPerSecond']} sagas/s, accepted {r['accepted']}/{r['sent']}, "
      f"terminal {sum(r['terminal'].values())}, errors {r['errors']}, p50 {l['p50']} p99 {l['p99']} ms{extra}")
PY
}

MAX_RATE=""
for mode in $MODES; do
    if [ "$mode" = max ]; then
        if [ -z "$MAX_RATE" ]; then
            MAX_RATE=$(python3 - "$out_dir" <<'PY'
import glob, json, statistics, sys
rates = [json.load(open(f)).get("highestSustainedRate") or 0 for f in glob.glob(sys.argv[1] + "/ramp-*.json")]
print(int(statistics.median(rates)) if rates else 100)
PY
)
        fi
        echo "max: $MAX_RATE orders/s (the ramp's median highest sustained rate)"
    fi
    for run in $(seq 1 "$RUNS"); do
        run_one "$mode" "$run"
    done
done

python3 - "$out_dir" "$MODES" "$(git rev-parse --short HEAD)" "$CONNECTIONS" "$SECONDS_PER_RUN" <<'PY' | tee "$out_dir.md"
import glob, json, statistics, sys
out, modes, commit, connections, seconds = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5]
print(f"commit {commit}, release, {connections} keep-alive connections, fixed rates {seconds} s per run\n")
print("| mode | runs: sagas/s | median sagas/s | median p50 ms | median p99 ms | median p99.9 ms | errors | not terminal |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for mode in modes:
    reports = [json.load(open(f)) for f in sorted(glob.glob(f"{out}/{mode}-*.json"))]
    if not reports:
        continue
    med = lambda xs: statistics.median(xs)
    rates = [r["sustainedSagasPerSecond"] for r in reports]
    label = mode if mode in ("ramp", "max") else f"{mode} orders/s"
    if mode == "ramp":
        label += " (highest sustained: " + " · ".join(str(int(r.get("highestSustainedRate") or 0)) for r in reports) + ")"
    if mode == "max":
        label += f" ({int(reports[0]['offeredRate'])} orders/s)"
    errors = sum(sum(r["errors"].values()) for r in reports)
    unfinished = sum(r["unfinished"] for r in reports)
    print(f"| {label} | {' · '.join(str(x) for x in rates)} | **{med(rates)}** | {med([r['latency']['p50'] for r in reports])} | "
          f"{med([r['latency']['p99'] for r in reports])} | {med([r['latency']['p99_9'] for r in reports])} | {errors} | {unfinished} |")
print()
print("| mode | peak RSS in MiB (VmHWM), the highest of the runs |")
print("| --- | --- |")
for mode in modes:
    peaks = {}
    for f in glob.glob(f"{out}/{mode}-*.rss.txt"):
        for line in open(f):
            name, mib = line.split()
            peaks[name] = max(peaks.get(name, 0.0), float(mib))
    if peaks:
        print(f"| {mode} | " + ", ".join(f"{name} {mib:.0f}" for name, mib in sorted(peaks.items())) + " |")
print()
for mode in modes:
    files = sorted(glob.glob(f"{out}/{mode}-*.metrics.txt"))
    if files:
        print(f"per-service batches, {mode} run {len(files)}:")
        print("".join("    " + line for line in open(files[-1])))
PY
[ -n "${BIN_DIR:-}" ] && echo "binaries from $BIN_DIR, not this checkout's build"
echo "results: $out_dir.md (raw reports in $out_dir/)"
