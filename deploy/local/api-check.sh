#!/usr/bin/env bash
# Every service's HTTP API against its OpenAPI document, from outside: schemathesis (from PyPI,
# into a virtual environment of its own) runs its stateless checks on every operation of every
# running service of a local stack of its own (state in .stack-api-check, PostgreSQL on 25436,
# every service's port + 2000, so that it runs beside `make up` and the chaos run; both outside the
# kernel's ephemeral port range, where a client connection may hold the port for a moment):
#   not_a_server_error            no 5xx, for valid and invalid input alike
#   status_code_conformance       every status is one the operation documents
#   content_type_conformance      every body has a documented media type (problem+json for errors)
#   response_headers_conformance  the documented headers are there (Location, Retry-After)
#   response_schema_conformance   every body validates against the operation's schema
#   negative_data_rejection       input the document rules out is refused with a 4xx
#   unsupported_method            a method the path does not have gets 405 (with Allow)
# Any failure fails the script. `make test` runs it after the chaos run.
#
#   deploy/local/api-check.sh                         every service
#   MAX_EXAMPLES=500 deploy/local/api-check.sh order  one service, harder
#   SKIP_STACK=1 HTTP_PORT_OFFSET=0 deploy/local/api-check.sh   against `make up`'s stack
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export STACK_DIR=${API_CHECK_STACK_DIR:-$ROOT/.stack-api-check}
export PG_PORT=${API_CHECK_PG_PORT:-25436}
export HTTP_PORT_OFFSET=${HTTP_PORT_OFFSET:-2000}
export CONFIG=${CONFIG:-debug}
SCHEMATHESIS_VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
MAX_EXAMPLES=${MAX_EXAMPLES:-200}
VENV=${SCHEMATHESIS_VENV:-$ROOT/.stack-test/venv-schemathesis}
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,unsupported_method

declare -A PORTS=([order]=8081 [payment]=8082 [inventory]=8083 [notification]=8084 [saga]=8085)
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(order payment inventory notification saga)

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV..."
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cd "$ROOT"
if [ "${SKIP_STACK:-0}" != 1 ]; then
    "$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1 || true
    trap '"$ROOT/deploy/local/stack.sh" down >/dev/null 2>&1 || true' EXIT
    # One more try after a pause: a port of the stack may still be held by a closing connection.
    "$ROOT/deploy/local/stack.sh" up || { sleep 5; "$ROOT/deploy/local/stack.sh" up; }
fi

failed=()
# schemathesis keeps a cache in its working directory: the test folder's, not the repository's.
mkdir -p "$ROOT/.stack-test" && cd "$ROOT/.stack-test"
for service in "${services[@]}"; do
    port=$((PORTS[$service] + HTTP_PORT_OFFSET))
    echo "== schemathesis: $service (http://127.0.0.1:$port/openapi.json)"
    # Hypothesis' example database stays out of the repository; --seed makes a failure repeatable.
    if ! "$VENV/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" --url "http://127.0.0.1:$port" \
        --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --seed "${SEED:-1}" --no-color \
        --generation-database none --phases examples,coverage,fuzzing; then
        failed+=("$service")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "api-check.sh: schemathesis found failures in: ${failed[*]}" >&2
    exit 1
fi
echo "api-check.sh: every operation of ${services[*]} conforms to its OpenAPI document"
