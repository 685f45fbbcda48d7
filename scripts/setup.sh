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
# `npm ci` built dist/ (the `prepare` script). As root, put `skiff` on the PATH: npx alone adds ~0.8 s
# to every command. A link to this checkout's bin/skiff.mjs; an existing non-link is left alone.
if [ "$(id -u)" = 0 ]; then
  target="$(pwd)/bin/skiff.mjs"
  if [ -L /usr/local/bin/skiff ] || [ ! -e /usr/local/bin/skiff ]; then
    ln -sfn "$target" /usr/local/bin/skiff
    echo "setup: /usr/local/bin/skiff -> $target"
  else
    echo "setup: /usr/local/bin/skiff exists and is not a link; leaving it (run $target)" >&2
  fi
fi
