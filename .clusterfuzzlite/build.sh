#!/bin/bash -eu
# Builds every libFuzzer harness in fuzz/harness/ under the fuzzing engine's contract,
# as ClusterFuzzLite and OSS-Fuzz run it (scripts/cflite.sh runs it the same way
# locally, in the test suite):
#   $CC, $CFLAGS           the compiler and the sanitizer/coverage flags, used for every
#                          object (nothing of vsbox's own CMake flags)
#   $LIB_FUZZING_ENGINE    linked into each fuzzer (-fsanitize=fuzzer for libFuzzer)
#   $SRC/vsbox             this repository;  $WORK  scratch;  $OUT  what the runner gets:
#     $OUT/NAME                     the fuzzer
#     $OUT/NAME_seed_corpus.zip     its seeds (fuzz/corpora.txt)
#     $OUT/NAME.dict                its dictionary, when it has one
#     $OUT/NAME.options             its libFuzzer options, when it needs any
# Unicorn and Capstone are linked statically: the runner image has neither.
cd "$SRC/vsbox"
obj="$WORK/vsbox-objects"
rm -rf "$obj"
mkdir -p "$obj" "$OUT"
flags=(-std=c11 -D_POSIX_C_SOURCE=200809L -I"$SRC/vsbox")

# Compile the given sources into $obj, echoing the object names.
compile() {
    local src o
    for src in "$@"; do
        o="$obj/$(echo "$src" | tr / _).o"
        # shellcheck disable=SC2086
        $CC $CFLAGS "${flags[@]}" -c "$src" -o "$o"
        echo "$o"
    done
}

mapfile -t core < <(compile viridian/*.c traces/*.c config/*.c snapshot/*.c fuzz/*.c)
ar rcs "$obj/libvsbox.a" "${core[@]}"

emu=()
if pkg-config --atleast-version=2 unicorn && pkg-config --exists capstone; then
    nasm -f elf64 fuzz/emu/seqguest.asm -o "$obj/seqguest.o"
    mapfile -t emu < <(compile emu/*.c fuzz/emu/engine.c)
    emu+=("$obj/seqguest.o")
    # shellcheck disable=SC2207
    emu_libs=($(pkg-config --cflags-only-I capstone) -Wl,-Bstatic -lunicorn -lcapstone
              -Wl,-Bdynamic -lpthread -lm)
else
    echo "build.sh: no Unicorn 2 and Capstone: fuzz_emu is not built" >&2
fi

for src in fuzz/harness/*.c; do
    name=$(basename "$src" .c)
    if [ "$name" = fuzz_emu ]; then
        [ ${#emu[@]} -gt 0 ] || continue
        # shellcheck disable=SC2086
        $CC $CFLAGS "${flags[@]}" "$src" "${emu[@]}" "$obj/libvsbox.a" "${emu_libs[@]}" \
            $LIB_FUZZING_ENGINE -o "$OUT/$name"
        # Every Unicorn engine leaks a little on close (fuzz/lsan.supp): leak checks,
        # per input or at exit, would flag every run. emu/ is leak-checked by the ASan
        # test run instead.
        printf '[libfuzzer]\ndetect_leaks = 0\n[asan]\ndetect_leaks = 0\n' > "$OUT/$name.options"
    else
        # shellcheck disable=SC2086
        $CC $CFLAGS "${flags[@]}" "$src" "$obj/libvsbox.a" -lpthread $LIB_FUZZING_ENGINE \
            -o "$OUT/$name"
        dict=fuzz/trace.dict
        [ "$name" = fuzz_kvm_import ] && dict=fuzz/kvm.dict
        cp "$dict" "$OUT/$name.dict"
    fi
    # Seeds, flattened into one zip (directories may share file names).
    seeds="$WORK/seeds-$name"
    rm -rf "$seeds"
    mkdir -p "$seeds"
    for dir in $(awk -v h="$name" '$1 == h { $1 = ""; print }' fuzz/corpora.txt); do
        for f in "$dir"/*; do
            [ -f "$f" ] && cp "$f" "$seeds/$(echo "$dir" | tr / -)-$(basename "$f")"
        done
    done
    rm -f "$OUT/${name}_seed_corpus.zip"
    (cd "$seeds" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
done
