#!/usr/bin/env bash
# The local stack: PostgreSQL, the development broker and every service, in the background.
#
#   deploy/local/stack.sh up     build, start everything, wait until every service is ready
#   deploy/local/stack.sh down   stop everything it started
#   deploy/local/stack.sh status
#   deploy/local/stack.sh start-service NAME-I   start one instance again (e.g. order-1)
#   deploy/local/stack.sh pg-stop | pg-start     stop PostgreSQL, start it again (data kept)
#
# Settings (environment): STACK_DIR (.stack), PG_PORT (25432), INSTANCES (1: instances of each
# service; instance i>1 listens on the base port + 100*(i-1)), CONFIG (debug or release),
# SKIP_BUILD (1: start what is built, without building first), HTTP_PORT_OFFSET (0: added to
# every service's port, so that a second stack can run beside `make up`), SAGA_STEP_TIMEOUT_MS (the
# orchestrator's step deadline, written to its env file), PG_SETTINGS (extra PostgreSQL
# settings, space-separated name=value, e.g. "synchronous_commit=off" for a measurement), BIN_DIR
# (start the executables of that directory instead of this checkout's build: another commit's
# binaries, for a benchmark's baseline; with SKIP_BUILD=1), DEV_BROKERS (1: brokers of the
# development broker; one serves every partition on one connection per client, which costs the
# clients fewer threads and wakeups than three; the tests run three).
# The stack is ephemeral: the development broker keeps its data in memory, so every `up`
# starts from empty PostgreSQL databases too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STACK_DIR=${STACK_DIR:-$ROOT/.stack}
PG_PORT=${PG_PORT:-25432}
INSTANCES=${INSTANCES:-1}
CONFIG=${CONFIG:-debug}

# name            port  product         database  role
SERVICES=(
    "order          8081  order-service       orders         order_service"
    "payment        8082  payment-service     payments       payment_service"
    "inventory      8083  inventory-service   inventory      inventory_service"
    "notification   8084  notification-service notifications notification_service"
    "saga           8085  saga-orchestrator   sagas          saga_orchestrator"
)
# What `up` chose is kept in the state directory, so that a later `start-service` starts the same
# build on the same ports.
if [ "${1:-}" = up ]; then
    HTTP_PORT_OFFSET=${HTTP_PORT_OFFSET:-0}
else
    HTTP_PORT_OFFSET=${HTTP_PORT_OFFSET:-$(cat "$STACK_DIR/http-port-offset" 2>/dev/null || echo 0)}
fi
for index in "${!SERVICES[@]}"; do
    read -r name port rest <<<"${SERVICES[$index]}"
    SERVICES[$index]="$name $((port + HTTP_PORT_OFFSET)) $rest"
done

running() {
    local pidfile
    for pidfile in "$STACK_DIR"/pids/*.pid; do
        [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && return 0
    done
    return 1
}

# instance_port BASE I: the port of instance I of a service whose first instance listens on BASE.
instance_port() {
    echo $(($1 + 100 * ($2 - 1)))
}

print_urls() {
    echo "local stack is up (state in $STACK_DIR, logs in $STACK_DIR/logs):"
    local entry name port product database role i
    for entry in "${SERVICES[@]}"; do
        read -r name port product database role <<<"$entry"
        for ((i = 1; i <= INSTANCES; i++)); do
            printf '  %-16s http://127.0.0.1:%-6s log: %s\n' "$name-$i" "$(instance_port "$port" "$i")" "$STACK_DIR/logs/$name-$i.log"
        done
    done
    printf '  %-16s %s (development broker; control: %s)\n' kafka "$(cat "$STACK_DIR/broker/bootstrap")" "$(cat "$STACK_DIR/broker/control")"
    printf '  %-16s 127.0.0.1:%s (admin: psql -h 127.0.0.1 -p %s -U postgres)\n' postgres "$PG_PORT" "$PG_PORT"
}

# start_instance BIN NAME PORT PRODUCT I: starts instance I of a service in the background, with
# its env file (written by `up`), and records its pid.
start_instance() {
    local bin=$1 name=$2 port=$3 product=$4 i=$5
    (
        cd "$ROOT"
        set -a
        # shellcheck disable=SC1090
        source "$STACK_DIR/env/$name.env"
        set +a
        export HTTP_PORT=$(instance_port "$port" "$i") INSTANCE_ID="$name-$i"
        # The service keeps no descriptor of whoever started it (a caller waiting for this script's
        # output, or for a socket of its own to close, would otherwise wait for the service's end).
        local fd
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        nohup "$bin/$product" >>"$STACK_DIR/logs/$name-$i.log" 2>&1 &
        echo $! >"$STACK_DIR/pids/$name-$i.pid"
    )
}

# start-service NAME-I: starts one instance again (after a crash, or the chaos runner's kill -9),
# without waiting for it to be ready.
start_service() {
    local instance=${1:?usage: stack.sh start-service NAME-I} entry name port product database role bin
    bin=$(cat "$STACK_DIR/bin" 2>/dev/null || (cd "$ROOT" && swift build -c "$CONFIG" --show-bin-path))
    for entry in "${SERVICES[@]}"; do
        read -r name port product database role <<<"$entry"
        if [[ "$instance" == "$name"-* ]]; then
            start_instance "$bin" "$name" "$port" "$product" "${instance##*-}"
            return 0
        fi
    done
    echo "no service instance '$instance'" >&2
    return 2
}

# in_use PORT: whether something accepts connections on 127.0.0.1:PORT.
in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

up() {
    if running; then
        echo "local stack already running; 'make down' first to restart it"
        print_urls
        return 0
    fi
    # A port another process holds (another stack's service, say) would answer this stack's
    # readiness checks in place of the service that cannot bind it: refuse it before starting
    # anything.
    local entry name port rest i instance busy=()
    for entry in "${SERVICES[@]}"; do
        read -r name port rest <<<"$entry"
        for ((i = 1; i <= INSTANCES; i++)); do
            instance=$(instance_port "$port" "$i")
            if in_use "$instance"; then busy+=("$name-$i on $instance"); fi
        done
    done
    if [ ${#busy[@]} -gt 0 ]; then
        echo "ports in use: ${busy[*]}. Another stack may be running (stop it with its own STACK_DIR)," \
            "or set HTTP_PORT_OFFSET to run beside it." >&2
        return 1
    fi
    "$ROOT/deploy/local/deps.sh"
    # Whatever fails from here on, stop what was started: no half-started stack is left behind.
    trap 'status=$?; if [ $status -ne 0 ]; then echo "make up failed; stopping what it started" >&2; down >&2; fi' EXIT
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
        echo "building ($CONFIG)..."
        (cd "$ROOT" && swift build -c "$CONFIG" 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | tail -n 5)
    fi
    local bin
    bin=${BIN_DIR:-$(cd "$ROOT" && swift build -c "$CONFIG" --show-bin-path)}
    mkdir -p "$STACK_DIR"/{logs,pids,secrets,broker}
    rm -f "$STACK_DIR"/logs/*.log
    echo "$bin" >"$STACK_DIR/bin"
    echo "$HTTP_PORT_OFFSET" >"$STACK_DIR/http-port-offset"
    chmod 700 "$STACK_DIR/secrets"

    echo "starting PostgreSQL on 127.0.0.1:$PG_PORT..."
    # shellcheck disable=SC2086 # PG_SETTINGS is a list of settings
    pg_start "$STACK_DIR/pg" "$PG_PORT" "max_connections=200" ${PG_SETTINGS:-}
    local entry name port product database role upper i
    # Every service role gets a random password (services not in SERVICES yet too, so that the
    # init script can create all databases).
    for role in order_service payment_service inventory_service notification_service saga_orchestrator; do
        [ -s "$STACK_DIR/secrets/$role" ] || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$STACK_DIR/secrets/$role"
        upper=$(echo "$role" | tr '[:lower:]' '[:upper:]')
        export "${upper}_PASSWORD_FILE=$STACK_DIR/secrets/$role"
    done
    PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres "$ROOT/deploy/postgres/init-databases.sh" >"$STACK_DIR/logs/init-databases.log"

    echo "starting the development broker..."
    rm -f "$STACK_DIR/broker/bootstrap" "$STACK_DIR/broker/control"
    nohup "$bin/dev-broker" --topics "$ROOT/deploy/topics.txt" --bootstrap-file "$STACK_DIR/broker/bootstrap" \
        --control-file "$STACK_DIR/broker/control" --brokers "${DEV_BROKERS:-1}" >"$STACK_DIR/logs/broker.log" 2>&1 &
    echo $! >"$STACK_DIR/pids/broker.pid"
    wait_file "$STACK_DIR/broker/control" 30 || { tail -n 20 "$STACK_DIR/logs/broker.log" >&2; exit 1; }

    mkdir -p "$STACK_DIR/env"
    for entry in "${SERVICES[@]}"; do
        read -r name port product database role <<<"$entry"
        # The service's configuration, shared by its instances and read by the operations tools
        # (`swift run replay <service>`, `swift run dlq ...`), so that they use exactly what it uses.
        cat >"$STACK_DIR/env/$name.env" <<EOF
HTTP_HOST=127.0.0.1
HTTP_PORT=$port
DATABASE_URL=postgresql://$role@127.0.0.1:$PG_PORT/$database
DATABASE_PASSWORD_FILE=$STACK_DIR/secrets/$role
KAFKA_BOOTSTRAP_FILE=$STACK_DIR/broker/bootstrap
TOPICS_FILE=$ROOT/deploy/topics.txt
RDKAFKA_SESSION_TIMEOUT_MS=${RDKAFKA_SESSION_TIMEOUT_MS:-6000}
RDKAFKA_FETCH_WAIT_MAX_MS=${RDKAFKA_FETCH_WAIT_MAX_MS:-3}
${RDKAFKA_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION:+RDKAFKA_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION=$RDKAFKA_MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION}
${SAGA_STEP_TIMEOUT_MS:+SAGA_STEP_TIMEOUT_MS=$SAGA_STEP_TIMEOUT_MS}
EOF
        for ((i = 1; i <= INSTANCES; i++)); do start_instance "$bin" "$name" "$port" "$product" "$i"; done
    done

    echo "waiting for every service to be ready..."
    for entry in "${SERVICES[@]}"; do
        read -r name port product database role <<<"$entry"
        for ((i = 1; i <= INSTANCES; i++)); do
            if ! wait_ready "http://127.0.0.1:$(instance_port "$port" "$i")/readyz" 120; then
                echo "$name-$i did not become ready; last lines of its log:" >&2
                tail -n 30 "$STACK_DIR/logs/$name-$i.log" >&2
                exit 1
            fi
        done
    done
    print_urls
}

down() {
    local pidfile
    # Services first (graceful: they flush), then the broker, then PostgreSQL.
    for pidfile in "$STACK_DIR"/pids/*.pid; do
        [ -f "$pidfile" ] && [ "$(basename "$pidfile")" != broker.pid ] && stop_pid "$pidfile"
    done
    stop_pid "$STACK_DIR/pids/broker.pid"
    pg_stop "$STACK_DIR/pg"
    echo "local stack stopped"
}

status() {
    local pidfile
    for pidfile in "$STACK_DIR"/pids/*.pid; do
        [ -f "$pidfile" ] || continue
        if kill -0 "$(cat "$pidfile")" 2>/dev/null; then state=running; else state=stopped; fi
        echo "$(basename "$pidfile" .pid): $state"
    done
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    start-service) start_service "${2:-}" ;;
    pg-stop) pg_stop "$STACK_DIR/pg" ;;
    pg-start) pg_resume "$STACK_DIR/pg" ;;
    *) echo "usage: $0 up|down|status|start-service NAME-I|pg-stop|pg-start" >&2; exit 2 ;;
esac
