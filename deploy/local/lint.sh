#!/usr/bin/env bash
# The format check: swift-format (from the toolchain) with the repository's .swift-format (4-space
# indent, 120 columns), over every Swift file of ours. `make test` runs it first, so CI fails on a
# file that is not formatted. `deploy/local/lint.sh --fix` (or `make format`) rewrites the files.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
paths=(Package.swift Shared Services Tools Tests Fuzz)
if [ "${1:-}" = --fix ]; then
    swift-format format --in-place --recursive --parallel "${paths[@]}"
else
    swift-format lint --strict --recursive --parallel "${paths[@]}" || {
        echo "lint.sh: files are not formatted as .swift-format says; run \`make format\`" >&2
        exit 1
    }
fi
