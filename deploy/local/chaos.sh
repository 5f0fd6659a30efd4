#!/usr/bin/env bash
# The chaos runner against a local stack of its own: starts the stack (state in .stack-chaos,
# PostgreSQL on 55434, every service's port + 1000, so that it runs beside `make up`), runs
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
export PG_PORT=${CHAOS_PG_PORT:-55434}
export HTTP_PORT_OFFSET=${CHAOS_HTTP_PORT_OFFSET:-1000}
export SAGA_STEP_TIMEOUT_MS=${SAGA_STEP_TIMEOUT_MS:-5000}
export CONFIG=${CONFIG:-debug}
# Three mock brokers, not the local stack's one: with one, the broker-errors scenario (NOT_LEADER
# and REQUEST_TIMED_OUT pushed onto Produce) makes librdkafka 2.0.2's mock acknowledge a few
# messages it never stored (docs/reliability.md), a loss no client can see; with three the errors
# spread over three connections and the runs stay clean.
export DEV_BROKERS=${DEV_BROKERS:-3}

[ $# -gt 0 ] || set -- all --short --rate 20
cd "$ROOT"
# A stack left behind by an interrupted run is stopped first.
"$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1 || true
trap '"$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1 || true' EXIT
"$ROOT/deploy/local/stack.sh" up
bin=$(swift build -c "$CONFIG" --show-bin-path)
[ -x "$bin/chaos" ] || swift build -c "$CONFIG" --product chaos
"$bin/chaos" --stack-dir "$STACK_DIR" --repository "$ROOT" --json "$STACK_DIR/chaos.json" "$@"
