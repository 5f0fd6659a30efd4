#!/usr/bin/env bash
# Creates one database and one login role per service; each role owns and can connect to its
# own database only (CONNECT is revoked from PUBLIC). Idempotent.
#
# Used by the local stack and, mounted into /docker-entrypoint-initdb.d, by docker-compose.
# Passwords come from the environment (<ROLE>_PASSWORD, e.g. ORDER_SERVICE_PASSWORD) or from a
# file named by <ROLE>_PASSWORD_FILE (Docker secrets). psql connects with the usual PG* variables.
set -euo pipefail

services=(
    "orders order_service"
    "payments payment_service"
    "inventory inventory_service"
    "notifications notification_service"
    "sagas saga_orchestrator"
)

for entry in "${services[@]}"; do
    read -r database role <<<"$entry"
    upper=$(echo "$role" | tr '[:lower:]' '[:upper:]')
    password_var="${upper}_PASSWORD"
    file_var="${upper}_PASSWORD_FILE"
    password="${!password_var:-}"
    if [ -z "$password" ] && [ -n "${!file_var:-}" ]; then
        password=$(tr -d '\r\n' <"${!file_var}")
    fi
    if [ -z "$password" ]; then
        echo "init-databases: no password for $role (set $password_var or $file_var)" >&2
        exit 1
    fi
    psql -v ON_ERROR_STOP=1 -q -d postgres -v role="$role" -v db="$database" -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'pw')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'role') \gexec
SQL
    echo "init-databases: database $database for role $role"
done
