#!/usr/bin/env bash
# The chaos runner against a local stack of its own: starts the stack (state in .stack-chaos,
# PostgreSQL on 25434, every service's port + 1000, so that it runs beside `make up`), runs
# `chaos` with the given arguments (default: every scenario's short version, the one `make test`
# runs), and stops the stack whatever happens. The orchestrator's step deadline is 5 s, so that
# `pause` outlasts it in seconds.
#
#   deploy/local/chaos.sh                          short version of every scenario
#   deploy/local/chaos.sh all --markdown chaos.md  the full durations (about 20 minutes)
#   CONFIG=release deploy/local/chaos.sh kill      one scenario against a release build
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export STACK_DIR=${CHAOS_STACK_DIR:-$ROOT/.stack-chaos}
export PG_PORT=${CHAOS_PG_PORT:-25434}
export HTTP_PORT_OFFSET=${CHAOS_HTTP_PORT_OFFSET:-1000}
export SAGA_STEP_TIMEOUT_MS=${SAGA_STEP_TIMEOUT_MS:-5000}
export CONFIG=${CONFIG:-debug}
# Three mock brokers, as every chaos run had, so that request errors spread over three connections.
export DEV_BROKERS=${DEV_BROKERS:-3}
# One Produce request in flight per connection. librdkafka's mock does not check an idempotent
# producer's sequence numbers (only a transactional one's), so when broker-errors fails one request
# and the next one of the same partition, already in flight, succeeds, the mock appends the later
# batch while the client, trusting a broker's ordering guarantee, takes that success as an
# acknowledgement of the failed batch too (librdkafka's "implicitly acked by subsequent batch
# success"): an acknowledged message that is not in the log. Real Kafka answers the later batch
# OUT_OF_ORDER_SEQUENCE_NUMBER. With one request in flight there is no later batch to misread
# (docs/reliability.md).
export RDKAFKA_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION=${RDKAFKA_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION:-1}

[ $# -gt 0 ] || set -- all --short --rate 20
cd "$ROOT"
# A stack left behind by an interrupted run is stopped first.
"$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1 || true
trap '"$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1 || true' EXIT
"$ROOT/deploy/local/stack.sh" up
bin=$(swift build -c "$CONFIG" --show-bin-path)
[ -x "$bin/chaos" ] || swift build -c "$CONFIG" --product chaos
"$bin/chaos" --stack-dir "$STACK_DIR" --repository "$ROOT" --json "$STACK_DIR/chaos.json" "$@"
