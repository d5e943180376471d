#!/usr/bin/env bash
# One command from a fresh Debian bookworm machine (as root, or with sudo available):
# install the build dependencies, build vsbox, and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh build
bash scripts/demo.sh build/vsbox
