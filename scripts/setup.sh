#!/usr/bin/env bash
# `npm run setup`: installs the Debian packages Skiff and its tests use (when run as root), then the
# npm dependencies. .ci/run calls this too, so the package list lives in one place.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-packages.sh
if [ "$(id -u)" = 0 ]; then
  missing=()
  for p in "${SKIFF_APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "setup: not root; skipping system packages (${SKIFF_APT_PACKAGES[*]})" >&2
fi
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
