#!/usr/bin/env bash
# The Debian packages vsbox builds and tests with. Skips apt when all are present.
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config nasm clang
      libunicorn-dev libcapstone-dev libcriterion-dev zip unzip
      python3 qemu-system-x86 chromium man-db groff-base)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
