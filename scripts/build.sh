#!/usr/bin/env bash
# build.sh DIR [cmake options...]: configure and build warning-free (-Werror).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -G Ninja -DVSBOX_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j 2
