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
echo "== vsbox replay --fill traces/golden/historical-bug-4.3-to-4.4.trace"
echo "   (boolean viridian=1 migrated from Xen 4.3 to 4.4: MSRs appear under the guest)"
"$vsbox" replay --fill traces/golden/historical-bug-4.3-to-4.4.trace | grep -v '^#  '
echo
echo "== vsbox replay traces/golden/seed-mask-keeps-the-set.trace  (the seed's fix)"
"$vsbox" replay traces/golden/seed-mask-keeps-the-set.trace
