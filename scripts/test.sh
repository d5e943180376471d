#!/usr/bin/env bash
# The whole test suite: a -Werror build and CTest, then the Xen Test Framework (built
# out of tree from ../shared/xtf, every test run twice and recorded, checked against
# tests/xtf-expected.txt), then CTest again under ASan+UBSan,
# then a short run of every libFuzzer harness on its seed corpus, then the
# ClusterFuzzLite build (.clusterfuzzlite/build.sh) as the engine runs it, and each
# fuzzer it produced for a few seconds.
# test.sh --quick skips the sanitizer and fuzzer passes.
# XTF_DIR names another XTF source tree (default ../shared/xtf).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh build
ctest --test-dir build --output-on-failure -j 2
bash scripts/xtf.sh ${XTF_DIR:+"$XTF_DIR"} --twice --check tests/xtf-expected.txt

if [ "${1:-}" != "--quick" ]; then
    bash scripts/build.sh build-asan -DVSBOX_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp \
        ctest --test-dir build-asan --output-on-failure -j 2
    bash fuzz/run.sh --smoke
    bash scripts/cflite.sh 4
fi
