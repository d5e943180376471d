#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine (as root, or with sudo available):
# install the build dependencies, build vsbox, and run the first demo (then: vsbox demo
# lists the others, docs/tutorial.md walks through them).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh build
build/vsbox demo enlightenments
echo
echo "Next: build/vsbox demo (the other demos), docs/tutorial.md (from the demos to a guest of your own)."
