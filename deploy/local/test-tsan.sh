#!/usr/bin/env bash
# The unit and integration suites under the thread sanitizer (issue 12, part 3): everything but
# EndToEndTests, built with `--sanitize=thread` into its own scratch path (.build-tsan, so the
# normal build is untouched), against a private PostgreSQL like deploy/local/test.sh's.
# TSAN_OPTIONS halt_on_error=1: the first data race fails the run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEST_DIR=${TEST_DIR:-$ROOT/.stack-tsan}
TEST_PG_PORT=${TEST_PG_PORT:-25436}
SCRATCH=${TSAN_SCRATCH_PATH:-$ROOT/.build-tsan}

"$ROOT/deploy/local/deps.sh"
cd "$ROOT"
swift build --build-tests --sanitize=thread --scratch-path "$SCRATCH"
export CQRS_BIN_DIR
CQRS_BIN_DIR=$(swift build --sanitize=thread --scratch-path "$SCRATCH" --show-bin-path)
export CQRS_REPO_ROOT=$ROOT

trap 'pg_stop "$TEST_DIR/pg"' EXIT
pg_start "$TEST_DIR/pg" "$TEST_PG_PORT" "max_connections=400" "fsync=off" "synchronous_commit=off"
export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$TEST_PG_PORT/postgres"
export TSAN_OPTIONS=${TSAN_OPTIONS:-"halt_on_error=1 second_deadlock_stack=1"}
# librdkafka's threads come from C11 thrd_create, which the sanitizer does not intercept: the shim
# (deploy/tsan/thrd_create.c) starts them through pthread_create so that they are known to it.
mkdir -p "$SCRATCH"
cc=$(command -v clang || echo /opt/swift/usr/bin/clang)
"$cc" -shared -fPIC -O2 -o "$SCRATCH/libthrd-create.so" "$ROOT/deploy/tsan/thrd_create.c" -lpthread
export LD_PRELOAD="$SCRATCH/libthrd-create.so"

swift test --sanitize=thread --scratch-path "$SCRATCH" --skip-build --skip EndToEndTests ${SWIFT_TEST_ARGS:-}
