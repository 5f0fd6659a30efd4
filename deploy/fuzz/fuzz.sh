#!/usr/bin/env bash
# libFuzzer targets for four parsers (see Fuzz/ and docs/reliability.md).
#
#   deploy/fuzz/fuzz.sh                       build every target, run each for FUZZ_SECONDS (60)
#   deploy/fuzz/fuzz.sh chunked envelope      only those targets
#   deploy/fuzz/fuzz.sh --smoke               every target for 5 s (what `make test` runs)
#   deploy/fuzz/fuzz.sh --build-only          build, do not run
#   FUZZ_RUNS=10000000 deploy/fuzz/fuzz.sh    each target until 10 million executions (the goal)
#
# Targets: request-head, chunked, http-response, envelope. Each is the parser's own source files
# compiled with swiftc (not SwiftPM) with -sanitize=fuzzer,address, plus an entry file
# Fuzz/<Target>/main.swift. Everything goes to .build-fuzz/: the binaries, the working corpus of each
# target (seeded from Fuzz/corpus/<target>/ on every run and kept between runs; FUZZ_FRESH=1 starts
# it again from the seeds), crash inputs under artifacts/<target>/, and logs/<target>.log.
#
# Before fuzzing, each target runs the saved crash inputs of Fuzz/regressions/<target>/ once (without
# FUZZ_ENVELOPE_KNOWN_BUGS); these fail until the bug is fixed (FUZZ_SKIP_REGRESSIONS=1 skips them).
# FUZZ_ENVELOPE_KNOWN_BUGS=allow lets the envelope target fuzz past the Timestamp bugs saved there.
#
# Prints, per target, libFuzzer's "Done N runs in S second(s)" line, exec/s and whether it crashed.
# Exits non-zero when any target crashed (or a regression input still crashes).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ -x /opt/swift/usr/bin/swiftc ] && export PATH="/opt/swift/usr/bin:$PATH"

ALL_TARGETS=(request-head chunked http-response envelope)
BUILD_ONLY=0
TARGETS=()
for arg in "$@"; do
    case "$arg" in
        --smoke) FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-5} ;;
        --build-only) BUILD_ONLY=1 ;;
        -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        request-head|chunked|http-response|envelope) TARGETS+=("$arg") ;;
        *) echo "fuzz.sh: unknown target or option '$arg' (targets: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
    esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")
FUZZ_SECONDS_GIVEN=${FUZZ_SECONDS:-}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_MAX_LEN=${FUZZ_MAX_LEN:-8192}

OUT=$ROOT/.build-fuzz
MODULES=$OUT/modules
mkdir -p "$OUT" "$MODULES" "$OUT/logs"
# Swift's own crash backtracer would run before libFuzzer's handler and takes long to symbolicate;
# libFuzzer prints the stack and writes the crash input.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
cd "$ROOT"

SWIFTC_FLAGS=(
    -O -sanitize=fuzzer,address -parse-as-library -use-ld=lld
    -swift-version 6 -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility
    -package-name cqrs_swift -I "$MODULES"
)

S=Shared/HTTPServer
C=Shared/HTTPClient
M=Shared/MessageModel
# The request-head parser and what it needs. HTTPRequest+JSON.swift is there for
# Substring.trimmingASCIIWhitespace(), which it defines; it brings HTTPRequest, Problem, JSONCoding
# and the JSONDiagnostics module with it.
HEAD_SOURCES=(
    $S/RequestHeadParser.swift $S/RequestHead.swift $S/HTTPHeaders.swift $S/HTTPMethod.swift $S/HTTPVersion.swift
    $S/HTTPStatus.swift $S/PercentDecoding.swift $S/HTTPRequest.swift $S/HTTPRequest+JSON.swift $S/Problem.swift
    $S/JSONCoding.swift
)
# The message model, every file of it (it is pure: no librdkafka, no libpq), on the JSONText
# module; NameBasedUUID.swift (swift-crypto) is replaced by a stub.
MODEL_SOURCES=()
for source in $M/*.swift; do
    [ "$source" = $M/NameBasedUUID.swift ] || MODEL_SOURCES+=("$source")
done
MODEL_SOURCES+=(Fuzz/Envelope/Stubs/NameBasedUUIDStub.swift)

# stale OUTPUT INPUT...: true when OUTPUT is missing or older than an input (or this script).
stale() {
    local output=$1
    shift
    [ -e "$output" ] || return 0
    local input
    for input in "$@" "${BASH_SOURCE[0]}"; do
        [ "$input" -nt "$output" ] && return 0
    done
    return 1
}

# compile LOG swiftc-arguments...: runs swiftc, keeping its output in LOG; shows it on failure.
compile() {
    local log=$1
    shift
    if ! swiftc "${SWIFTC_FLAGS[@]}" "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "fuzz.sh: build failed (log: $log)" >&2
        exit 1
    fi
}

build_module() { # NAME SOURCES...
    local name=$1
    shift
    if stale "$OUT/$name.o" "$@"; then
        echo "building module $name"
        compile "$OUT/logs/build-$name.log" -module-name "$name" -wmo -emit-module \
            -emit-module-path "$MODULES/$name.swiftmodule" -c -o "$OUT/$name.o" "$@"
        touch "$OUT/$name.o" # swiftc leaves an object it would write identically untouched
    fi
}

build_target() { # TARGET
    local target=$1 binary=$OUT/fuzz-$1
    local -a sources objects
    local module
    case "$target" in
        request-head) module=HTTPServer; sources=(Fuzz/RequestHead/main.swift "${HEAD_SOURCES[@]}"); objects=("$OUT/JSONDiagnostics.o") ;;
        chunked) module=HTTPServer; sources=(Fuzz/Chunked/main.swift $S/ChunkedDecoder.swift "${HEAD_SOURCES[@]}"); objects=("$OUT/JSONDiagnostics.o") ;;
        http-response) module=HTTPClient; sources=(Fuzz/HTTPResponse/main.swift $C/HTTPResponseReader.swift $C/HTTPResponseParser.swift $C/HTTPClientResponse.swift $C/HTTPClientError.swift); objects=() ;;
        envelope) module=Contracts; sources=(Fuzz/Envelope/main.swift Shared/Contracts/*.swift); objects=("$OUT/MessageModel.o" "$OUT/JSONText.o" "$OUT/JSONDiagnostics.o") ;;
    esac
    if stale "$binary" "${sources[@]}" "${objects[@]}"; then
        echo "building fuzz-$target"
        compile "$OUT/logs/build-$target.log" -module-name "$module" -o "$binary" "${sources[@]}" "${objects[@]}"
        touch "$binary"
    fi
}

build_module JSONDiagnostics Shared/JSONDiagnostics/*.swift
for target in "${TARGETS[@]}"; do
    [ "$target" = envelope ] && build_module JSONText Shared/JSONText/*.swift
    [ "$target" = envelope ] && build_module MessageModel "${MODEL_SOURCES[@]}"
    build_target "$target"
done
[ "$BUILD_ONLY" = 1 ] && exit 0

failed=0
summary=()
for target in "${TARGETS[@]}"; do
    binary=$OUT/fuzz-$target
    corpus=$OUT/corpus/$target
    artifacts=$OUT/artifacts/$target
    log=$OUT/logs/$target.log
    [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$corpus"
    mkdir -p "$corpus" "$artifacts"
    : >"$OUT/logs/$target-regressions.log"
    cp Fuzz/corpus/"$target"/* "$corpus"/

    regressions=()
    [ -d Fuzz/regressions/"$target" ] && mapfile -t regressions < <(find Fuzz/regressions/"$target" -type f ! -name '*.md' | sort)
    if [ "${FUZZ_SKIP_REGRESSIONS:-0}" != 1 ] && [ ${#regressions[@]} -gt 0 ]; then
        # One process per input: libFuzzer stops at the first crash.
        still=()
        for input in "${regressions[@]}"; do
            env -u FUZZ_ENVELOPE_KNOWN_BUGS "$binary" "$input" >>"$OUT/logs/$target-regressions.log" 2>&1 \
                || still+=("$(basename "$input")")
        done
        if [ ${#still[@]} -gt 0 ]; then
            summary+=("$(printf '%-14s REGRESSION: still crashes on %s (log: %s)' "$target" "${still[*]}" \
                "$OUT/logs/$target-regressions.log")")
            failed=1
        fi
    fi

    # FUZZ_RUNS: a number of executions instead of a time (then FUZZ_SECONDS only bounds it, 1 day).
    limit=(-max_total_time="$FUZZ_SECONDS")
    if [ -n "${FUZZ_RUNS:-}" ]; then
        limit=(-runs="$FUZZ_RUNS" -max_total_time="${FUZZ_SECONDS_GIVEN:-86400}")
        echo "fuzzing $target for $FUZZ_RUNS executions (log: $log)"
    else
        echo "fuzzing $target for ${FUZZ_SECONDS}s (log: $log)"
    fi
    status=0
    "$binary" "$corpus" "${limit[@]}" -max_len="$FUZZ_MAX_LEN" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
    done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
    runs=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}' | tail -1)
    seconds=$(echo "$done_line" | awk '{print $5}')
    rate="?"
    [ -n "$runs" ] && [ -n "$seconds" ] && [ "$seconds" -gt 0 ] && rate=$((runs / seconds))
    if [ "$status" -ne 0 ]; then
        failed=1
        crash=$(grep -E 'Test unit written to|^==[0-9]+==ERROR|Fatal error|deadly signal' "$log" | head -3 | tr '\n' ' ')
        summary+=("$(printf '%-14s CRASH (exit %s) after %s runs: %s' "$target" "$status" "${runs:-?}" "$crash")")
    else
        summary+=("$(printf '%-14s %s  (%s exec/s, corpus %s files, crashes: 0)' "$target" "$done_line" "$rate" \
            "$(find "$corpus" -type f | wc -l)")")
    fi
done

echo
if [ -n "${FUZZ_RUNS:-}" ]; then
    echo "fuzz results ($FUZZ_RUNS executions per target):"
else
    echo "fuzz results (${FUZZ_SECONDS}s per target):"
fi
printf '  %s\n' "${summary[@]}"
exit "$failed"
