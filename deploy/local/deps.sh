#!/usr/bin/env bash
# Installs what building, running and testing need, when it is missing: Swift's system
# libraries (librdkafka, libpq), the PostgreSQL server binaries, curl and pkg-config, headless
# Chromium (the saga pages' test), and
# docker-compose (Debian's 1.29: the test suite validates docker-compose.yml with it; no Docker
# engine is needed or installed for that).
# Swift itself is expected at /opt/swift (or on PATH).
set -euo pipefail

need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
pkg-config --exists rdkafka 2>/dev/null || need+=(librdkafka-dev)
pkg-config --exists libpq 2>/dev/null || need+=(libpq-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# Headless Chromium for the saga pages' end-to-end test, with a font to render them.
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)

if [ ${#need[@]} -gt 0 ]; then
    echo "deps: installing ${need[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1 && [ ! -x /opt/swift/usr/bin/swift ]; then
    echo "deps: Swift 6 is required (expected at /opt/swift/usr/bin or on PATH)" >&2
    exit 1
fi
