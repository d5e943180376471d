#!/usr/bin/env bash
# The ClusterFuzzLite build, run here the way the engine runs it: .clusterfuzzlite/build.sh
# with the variables OSS-Fuzz's base-builder sets for a libFuzzer + AddressSanitizer build
# (clang, its CFLAGS, LIB_FUZZING_ENGINE=-fsanitize=fuzzer, SRC/WORK/OUT), then every
# fuzzer it produced for a few seconds on its unzipped seed corpus, with its dictionary
# and options file, as the runner would. No Docker needed: the packages are the
# machine's (scripts/install-deps.sh).
#   scripts/cflite.sh [SECONDS]      default 4 s per fuzzer
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-4}
root=$PWD/build-cflite
rm -rf "$root"
mkdir -p "$root/src" "$root/work" "$root/out"
ln -s "$PWD" "$root/src/vsbox"

export CC=clang CXX=clang++
export SANITIZER=address FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
export SRC=$root/src WORK=$root/work OUT=$root/out

echo "== .clusterfuzzlite/build.sh (CC=$CC, LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE)"
bash .clusterfuzzlite/build.sh
# Every harness must come out of it: one that silently failed to link is a finding
# (fuzz_emu once clashed with a symbol of the static libunicorn.a and was left out).
for src in fuzz/harness/*.c; do
    [ -x "$OUT/$(basename "$src" .c)" ] || { echo "cflite: $(basename "$src" .c) was not built" >&2; exit 1; }
done

# The runner's view: each executable in $OUT with what build.sh left beside it.
ran=0
for fuzzer in "$OUT"/*; do
    [ -f "$fuzzer" ] && [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    corpus=$WORK/corpus-$name
    mkdir -p "$corpus"
    [ -f "$OUT/${name}_seed_corpus.zip" ] || { echo "cflite: $name has no seed corpus" >&2; exit 1; }
    unzip -q -o "$OUT/${name}_seed_corpus.zip" -d "$corpus"
    args=(-seed=1 -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$WORK/")
    [ -f "$OUT/$name.dict" ] && args+=(-dict="$OUT/$name.dict")
    # NAME.options: [libfuzzer] keys become flags, [asan] keys ASAN_OPTIONS, as the
    # runner does.
    asan=""
    if [ -f "$OUT/$name.options" ]; then
        section=""
        while IFS='=' read -r key value; do
            key=$(echo "$key" | tr -d ' ')
            value=$(echo "$value" | tr -d ' ')
            [[ -z $key || $key == \#* ]] && continue
            if [[ $key == \[*\] ]]; then
                section=$key
            elif [ "$section" = "[libfuzzer]" ]; then
                args+=(-"$key"="$value")
            elif [ "$section" = "[asan]" ]; then
                asan="${asan:+$asan:}$key=$value"
            fi
        done < "$OUT/$name.options"
    fi
    log=$WORK/$name.log
    echo "== $name ${args[*]}${asan:+ (ASAN_OPTIONS=$asan)}"
    if ! ASAN_OPTIONS="$asan" "$fuzzer" "${args[@]}" "$corpus" >"$log" 2>&1; then
        tail -40 "$log"
        exit 1
    fi
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" | tr '\n' ' '
    echo
    ran=$((ran + 1))
done
[ "$ran" -ge 5 ] || { echo "cflite: only $ran fuzzers were built (expected 5)" >&2; exit 1; }
