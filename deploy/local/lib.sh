# Shared functions of the local stack scripts (sourced, not run).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

# PostgreSQL refuses to run as root: as root, the server runs as an unprivileged user.
pg_user() {
    if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
    if id postgres >/dev/null 2>&1; then echo postgres; return; fi
    id cqrs-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin cqrs-pg
    echo cqrs-pg
}

as_pg() {
    local user
    user=$(pg_user)
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# pg_start DIR PORT [extra postgres -c settings...]: a fresh cluster in DIR, loopback only.
pg_start() {
    local dir=$1 port=$2
    shift 2
    pg_stop "$dir"
    rm -rf "$dir"
    mkdir -p "$dir/run"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown -R "$(pg_user)" "$dir"; fi
    chmod 700 "$dir"
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    # The admin role reaches every database over loopback without a password (development
    # only); service roles need their password and reach only their own database.
    {
        echo "local all postgres trust"
        echo "host  all postgres 127.0.0.1/32 trust"
        echo "host  orders        order_service        127.0.0.1/32 scram-sha-256"
        echo "host  payments      payment_service      127.0.0.1/32 scram-sha-256"
        echo "host  inventory     inventory_service    127.0.0.1/32 scram-sha-256"
        echo "host  notifications notification_service 127.0.0.1/32 scram-sha-256"
        echo "host  sagas         saga_orchestrator    127.0.0.1/32 scram-sha-256"
    } | as_pg tee "$dir/data/pg_hba.conf" >/dev/null
    # The settings go into the cluster's own configuration, so that `pg_resume` (after a
    # `pg_stop`, the chaos runner's postgres-down) starts exactly the same server.
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$dir/run'"
        local setting
        for setting in "$@"; do echo "${setting%%=*} = '${setting#*=}'"; done
    } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
    pg_resume "$dir"
}

# pg_resume DIR: starts the cluster pg_start made in DIR again (its data and settings kept).
pg_resume() {
    local dir=$1
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
        || { tail -n 20 "$dir/postgres.log" >&2; return 1; }
}

pg_stop() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

# wait_ready URL SECONDS: until the URL answers 200.
wait_ready() {
    local url=$1 seconds=$2 i
    for ((i = 0; i < seconds * 5; i++)); do
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    return 1
}

# wait_file PATH SECONDS
wait_file() {
    local path=$1 seconds=$2 i
    for ((i = 0; i < seconds * 10; i++)); do
        [ -s "$path" ] && return 0
        sleep 0.1
    done
    return 1
}

# stop_pid PIDFILE: SIGTERM, up to 20 s for a graceful stop, then SIGKILL.
stop_pid() {
    local pidfile=$1 pid i
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 200; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$pidfile"
}
