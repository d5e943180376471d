#!/usr/bin/env bash
# The demo: a bundled guest run under three viridian settings, then a recorded run
# replayed on the model alone, then the seed's migration story as golden traces.
set -euo pipefail
cd "$(dirname "$0")/.."
vsbox=${1:-build/vsbox}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== vsbox run probe --viridian 0        (Xen's own leaves only)"
"$vsbox" run probe --viridian 0
echo
echo "== vsbox run probe --viridian base     (the seed's 'base' group)"
"$vsbox" run probe --viridian base
echo
echo "== vsbox run freq-calibrate --viridian 1  (base + freq: the TSC frequency MSR)"
"$vsbox" run freq-calibrate --viridian 1
echo
echo "== vsbox run windows-boot --viridian 1 --record boot.trace; vsbox replay boot.trace"
"$vsbox" run windows-boot --viridian 1 --record "$tmp/boot.trace" >/dev/null
grep -c -E '^(cpuid|rdmsr|wrmsr|rdtsc|hypercall)' "$tmp/boot.trace" | sed 's/$/ trapped events recorded/'
"$vsbox" replay "$tmp/boot.trace"
echo
echo "== vsbox replay traces/golden/seed-mask-keeps-the-set.trace  (the seed's fix)"
"$vsbox" replay traces/golden/seed-mask-keeps-the-set.trace
