#!/usr/bin/env bash
# Build and run the libFuzzer harnesses on their seed corpora (OSS-Fuzz layout).
#   fuzz/run.sh --smoke            each harness for a short fixed number of runs (CI)
#   fuzz/run.sh HARNESS [ARGS...]  one harness, libFuzzer ARGS (e.g. -max_total_time=600)
# New inputs go to build-fuzz/corpus/HARNESS, never into the source tree.
set -euo pipefail
cd "$(dirname "$0")/.."

CC=clang cmake -S . -B build-fuzz -G Ninja -DVSBOX_FUZZERS=ON >/dev/null
cmake --build build-fuzz -j 2 >/dev/null

seeds() {
    case "$1" in
        fuzz_trace_reader) echo traces/golden tests/data/replay ;;
        fuzz_xlcfg) echo tests/data/xlcfg ;;
        fuzz_model) echo fuzz/corpus/fuzz_model ;;
        fuzz_snapshot_reader) echo fuzz/corpus/fuzz_snapshot_reader ;;
    esac
}

run() {
    local h=$1; shift
    mkdir -p "build-fuzz/corpus/$h"
    # shellcheck disable=SC2046
    "build-fuzz/fuzz/$h" -dict=fuzz/trace.dict "$@" "build-fuzz/corpus/$h" $(seeds "$h")
}

if [ "${1:-}" = "--smoke" ]; then
    for h in fuzz_trace_reader fuzz_xlcfg fuzz_model fuzz_snapshot_reader; do
        echo "== $h"
        run "$h" -runs=5000 2>&1 | tail -1
    done
else
    run "$@"
fi
