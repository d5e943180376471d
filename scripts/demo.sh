#!/usr/bin/env bash
# The demo: what a guest sees with and without the freq group, then a golden trace replayed.
set -euo pipefail
cd "$(dirname "$0")/.."
vsbox=${1:-build/vsbox}

echo "== vsbox cpuid --viridian base      (the seed's pre-4.4 'base' set)"
"$vsbox" cpuid --viridian base
echo
echo "== vsbox msrs --viridian 'all,!freq' (the frequency MSRs are a #GP)"
"$vsbox" msrs --viridian 'all,!freq'
echo
echo "== vsbox replay traces/golden/param-rules.trace"
"$vsbox" replay traces/golden/param-rules.trace
