#!/usr/bin/env bash
# Build and run the libFuzzer harnesses on their seed corpora (OSS-Fuzz layout).
#   fuzz/run.sh --smoke            each harness for a short fixed number of runs (CI)
#   fuzz/run.sh HARNESS [ARGS...]  one harness, libFuzzer ARGS (e.g. -max_total_time=600)
# New inputs go to build-fuzz/corpus/HARNESS, never into the source tree.
set -euo pipefail
cd "$(dirname "$0")/.."

# One build at a time: a second run.sh would relink a harness the first one is running
# ("Text file busy").
mkdir -p build-fuzz
exec 9>build-fuzz/.build-lock
flock 9
CC=clang cmake -S . -B build-fuzz -G Ninja -DVSBOX_FUZZERS=ON >/dev/null
cmake --build build-fuzz -j 2 >/dev/null
flock -u 9
exec 9>&-

seeds() {
    awk -v h="$1" '$1 == h { $1 = ""; print }' fuzz/corpora.txt
}

export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# Harness-specific libFuzzer flags. Every Unicorn engine leaks a little (lsan.supp), so
# to libFuzzer every fuzz_emu input looks leaky and earns a full LSan scan, which made it
# 3x slower; leaks in emu/ itself are still caught by the ASan test run.
flags() {
    case $1 in
        fuzz_emu) echo -detect_leaks=0 ;;
        fuzz_kvm_import) echo -dict=fuzz/kvm.dict ;;
        *) echo -dict=fuzz/trace.dict ;;
    esac
}

run() {
    local h=$1; shift
    mkdir -p "build-fuzz/corpus/$h"
    # shellcheck disable=SC2046
    "build-fuzz/fuzz/$h" $(flags "$h") "$@" "build-fuzz/corpus/$h" $(seeds "$h")
}

# Smoke runs use a fixed seed so CI is repeatable; a failure prints libFuzzer's report.
smoke() {
    local h=$1 runs=$2 log
    log=$(mktemp)
    echo "== $h"
    if run "$h" -seed=1 -runs="$runs" >"$log" 2>&1; then
        grep -v "^$" "$log" | tail -1
        rm -f "$log"
    else
        tail -40 "$log"
        rm -f "$log"
        return 1
    fi
}

if [ "${1:-}" = "--smoke" ]; then
    for h in fuzz_trace_reader fuzz_xlcfg fuzz_model fuzz_snapshot_reader fuzz_kvm_import fuzz_kvm_model; do
        smoke "$h" 5000
    done
    # A fresh Unicorn engine per input (~40 inputs/s under ASan): fewer runs, same idea.
    smoke fuzz_emu 400
else
    run "$@"
fi
