#!/usr/bin/env bash
# Writes a random password for the PostgreSQL admin and for every service role into
# deploy/secrets/ (kept out of git), where docker-compose.yml's `secrets:` read them. Existing
# files are kept, so running it again changes nothing; delete a file to rotate that password
# (and recreate the postgres volume, or ALTER ROLE by hand: the init script runs only on an
# empty data directory).
#
# The folder is private to you (0700); the files are 0644 because compose bind-mounts them
# into the containers as they are, and the services run as a non-root user there.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets"
mkdir -p "$dir"
chmod 700 "$dir"
for name in postgres order_service payment_service inventory_service notification_service saga_orchestrator; do
    file="$dir/${name}_password"
    if [ ! -s "$file" ]; then
        (umask 022 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$file")
        echo "compose-secrets: wrote $file"
    fi
done
