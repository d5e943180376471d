#!/usr/bin/env bash
# docs.sh [VSBOX]: rewrite the pages generated from vsbox's tables (vsbox docs):
# docs/msrs.md and docs/groups.md whole, and in docs/guests.md the guest list between
# its BEGIN and END markers. tests/test_docs.c fails when any of them is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
vsbox=${1:-build/vsbox}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$vsbox" docs msrs > "$tmp/msrs.md"
"$vsbox" docs groups > "$tmp/groups.md"
"$vsbox" docs guests --source . > "$tmp/list.md"
awk -v list="$tmp/list.md" '
    /^<!-- BEGIN vsbox docs guests -->$/ { print; while ((getline l < list) > 0) print l; skip = 1; next }
    /^<!-- END vsbox docs guests -->$/ { skip = 0 }
    !skip' docs/guests.md > "$tmp/guests.md"
grep -q '^<!-- END vsbox docs guests -->$' "$tmp/guests.md" || { echo "docs/guests.md: no markers" >&2; exit 2; }
mv "$tmp/msrs.md" docs/msrs.md
mv "$tmp/groups.md" docs/groups.md
mv "$tmp/guests.md" docs/guests.md
