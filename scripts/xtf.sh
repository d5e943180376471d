#!/usr/bin/env bash
# scripts/xtf.sh [XTF_DIR] [--check EXPECTATIONS] [--twice] [--only PATTERN]
#
# Builds the Xen Test Framework out of tree (a copy of XTF_DIR, default ../shared/xtf)
# and runs every test in every HVM environment (hvm32, hvm32pse, hvm32pae, hvm64)
# under vsbox, each from its own xl.cfg the way `xl create` would take it. Prints a
# table (test x environment -> SUCCESS / SKIP / FAILURE / ERROR / CRASH / TIMEOUT) and a
# summary line. With --check, compares against an expectations file (lines of
# "test env VERDICT  # why") and exits 1 on any CRASH or TIMEOUT, or any verdict worse
# than expected. With --twice, every test is run a second time with both runs recorded
# (--record), and a test whose two traces differ in any byte is NONDETERMINISTIC (as
# bad as a CRASH for --check).
#
# Environment: VSBOX (the binary, default build/vsbox), XTF_BUILD (where to build,
# default build/xtf), XTF_BUDGET (instructions per test, default 20000000000),
# XTF_JOBS (tests run at once, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

xtf_dir=""
check=""
only=""
twice=0
while [ $# -gt 0 ]; do
    case "$1" in
        --check) check=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --twice) twice=1; shift ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) xtf_dir=$1; shift ;;
    esac
done
xtf_dir=${xtf_dir:-$root/../shared/xtf}
vsbox=${VSBOX:-$root/build/vsbox}
build=${XTF_BUILD:-$root/build/xtf}
budget=${XTF_BUDGET:-20000000000}
jobs=${XTF_JOBS:-2}
# XTF is run as its CI runs Xen: with hvm_fep, so the tests that force instructions
# through the emulator run rather than skip. XTF_FEP=0 runs it as release Xen.
fep=$([ "${XTF_FEP:-1}" = 0 ] || echo --hvm-fep)

[ -x "$vsbox" ] || { echo "xtf.sh: no vsbox at $vsbox (build it first)" >&2; exit 2; }
[ -f "$xtf_dir/Makefile" ] || { echo "xtf.sh: $xtf_dir is not an XTF source tree" >&2; exit 2; }

# Out of tree: XTF builds in its own directory, so build a copy (the source may be
# read-only). Rebuilt only when the source is newer than the copy.
stamp=$build/.vsbox-built
if [ ! -f "$stamp" ] || [ -n "$(find "$xtf_dir" -newer "$stamp" -type f -print -quit)" ]; then
    rm -rf "$build"
    mkdir -p "$build"
    cp -r "$xtf_dir"/. "$build"/
    [ -t 2 ] && echo "xtf.sh: building XTF in $build" >&2
    make -C "$build" -j2 >"$build/build.log" 2>&1 || {
        echo "xtf.sh: XTF did not build; see $build/build.log" >&2; tail -5 "$build/build.log" >&2; exit 2; }
    touch "$stamp"
fi

envs="hvm32 hvm32pse hvm32pae hvm64"
results=$build/results
rm -rf "$results"
mkdir -p "$results"
list=$results/list
: >"$list"
for t in "$build"/tests/*/; do
    base=$(basename "$t")
    for env in $envs; do
        # test-ENV-NAME.cfg, or one per variant: test-ENV-NAME~VARIANT.cfg (invlpg~hap)
        for cfg in "$t"/test-$env-$base.cfg "$t"/test-$env-$base~*.cfg; do
            [ -f "$cfg" ] || continue
            name=$(basename "$cfg" .cfg)
            name=${name#test-$env-}
            if [ -n "$only" ] && [[ "$name" != $only ]]; then continue; fi
            echo "$name $env $cfg" >>"$list"
        done
    done
done

# One test: its verdict from how vsbox ended and what the guest printed.
run_one() {
    local name=$1 env=$2 cfg=$3 out=$results/$1.$2
    local status=0
    # A runaway console is cut at 4 MB (the verdict line comes last, so it then has none).
    local rec=()
    [ "$twice" = 1 ] && rec=(--record "$out.1.trace")
    timeout 120 "$vsbox" run --config "$cfg" --budget "$budget" $fep "${rec[@]}" 2>&1 |
        head -c 4000000 >"$out.log"
    status=${PIPESTATUS[0]}
    local verdict
    case $status in
        0|1) verdict=$(grep -a -o 'Test result: \(SUCCESS\|SKIP\|FAILURE\|ERROR\)' "$out.log" | tail -1 | cut -d' ' -f3)
             [ -n "$verdict" ] || verdict=$([ $status = 0 ] && echo SUCCESS || echo FAILURE) ;;
        5) verdict=ERROR ;;   # vsbox cannot emulate what the test needs: named in the log
        3) if grep -q "budget of .* instructions exhausted" "$out.log"; then verdict=TIMEOUT; else verdict=CRASH; fi ;;
        124) verdict=TIMEOUT ;;
        *) verdict=CRASH ;;
    esac
    # A run that wrote no trace (bad input, a timeout) has nothing to compare.
    if [ "$twice" = 1 ] && [ -f "$out.1.trace" ]; then
        timeout 120 "$vsbox" run --config "$cfg" --budget "$budget" $fep --record "$out.2.trace" \
            >"$out.2.log" 2>&1 || true
        if ! cmp -s "$out.1.trace" "$out.2.trace" || ! cmp -s "$out.log" "$out.2.log"; then
            verdict=NONDETERMINISTIC
        fi
    fi
    echo "$verdict" >"$out.verdict"
    [ -t 2 ] && printf '.' >&2
    return 0
}
export -f run_one
export vsbox budget results fep twice
total=$(wc -l <"$list")
[ -t 2 ] && echo "xtf.sh: running $total tests, $jobs at a time" >&2
xargs -P "$jobs" -L 1 bash -c 'run_one "$@"' _ <"$list"
[ -t 2 ] && echo >&2

# The table: one row per test, one column per environment.
printf '%-28s' test
for env in $envs; do printf ' %-9s' "$env"; done
echo
declare -A count=()
for name in $(cut -d' ' -f1 "$list" | sort -u); do
    printf '%-28s' "$name"
    for env in $envs; do
        v=-
        [ -f "$results/$name.$env.verdict" ] && v=$(cat "$results/$name.$env.verdict")
        printf ' %-9s' "$v"
        [ "$v" = - ] || count[$v]=$(( ${count[$v]:-0} + 1 ))
    done
    echo
done
summary="xtf: $total tests:"
for v in SUCCESS SKIP FAILURE ERROR CRASH TIMEOUT NONDETERMINISTIC; do summary="$summary ${count[$v]:-0} $v,"; done
echo "${summary%,}"

[ -n "$check" ] || exit 0
rank() { case $1 in SUCCESS) echo 0 ;; SKIP) echo 1 ;; ERROR) echo 2 ;; FAILURE) echo 3 ;; *) echo 4 ;; esac; }
bad=0
while read -r name env cfg; do
    got=$(cat "$results/$name.$env.verdict")
    want=$(awk -v n="$name" -v e="$env" '$1 == n && $2 == e { print $3 }' "$check")
    if [ "$got" = CRASH ] || [ "$got" = TIMEOUT ] || [ "$got" = NONDETERMINISTIC ]; then
        echo "xtf.sh: $name $env: $got (see $results/$name.$env.log)" >&2
        bad=1
    elif [ -z "$want" ]; then
        echo "xtf.sh: $name $env: $got, but $check has no line for it" >&2
        bad=1
    elif [ "$(rank "$got")" -gt "$(rank "$want")" ]; then
        echo "xtf.sh: $name $env: $got, expected $want (see $results/$name.$env.log)" >&2
        bad=1
    fi
done <"$list"
exit $bad
