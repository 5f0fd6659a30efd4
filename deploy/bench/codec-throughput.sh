#!/usr/bin/env bash
# Envelope codec throughput, one thread, in process: `codec-bench` (Tools/CodecBench).
#
#   deploy/bench/codec-throughput.sh                 # release build, 5 rounds of 200,000 messages
#   RUNS=3 MESSAGES=100000 deploy/bench/codec-throughput.sh
#   SKIP_BUILD=1 deploy/bench/codec-throughput.sh
#
# Prints messages per second for the log's encoder (MessageJSONEncoder), Foundation's JSONEncoder
# writing the same bytes, the strict decoder (MessageJSONDecoder) and the same decode through
# Foundation's JSONDecoder; each the median of the rounds of each run, and
# the median of RUNS runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

RUNS=${RUNS:-3}
MESSAGES=${MESSAGES:-200000}
ROUNDS=${ROUNDS:-5}
cd "$ROOT"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    swift build -c release --product codec-bench >/dev/null
fi
bin=$(swift build -c release --show-bin-path)
for run in $(seq 1 "$RUNS"); do
    "$bin/codec-bench" --messages "$MESSAGES" --rounds "$ROUNDS" --json
done | python3 -c '
import json, statistics, sys
runs = [json.loads(line) for line in sys.stdin if line.strip()]
for name in sorted(runs[0]):
    rates = [r[name] for r in runs]
    print(f"{name}: " + " · ".join(f"{x:,.0f}" for x in rates) + f" messages/s, median {statistics.median(rates):,.0f}")
'
echo "commit $(git rev-parse --short HEAD), $RUNS runs of $ROUNDS rounds of $MESSAGES messages"
