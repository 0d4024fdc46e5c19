#!/usr/bin/env bash
# Runs every benchmark against the build in $1 (default build/release) and prints their ratios.
set -euo pipefail
build="${1:-build/release}"
for b in "$build"/bench/*; do
  if [ -x "$b" ] && [ -f "$b" ]; then
    echo "== $(basename "$b")"
    "$b"
  fi
done
for py in "$(dirname "$0")"/*.py; do
  [ -f "$py" ] || continue
  echo "== $(basename "$py")"
  INFERENCE_BUILD_DIR="$build" python3 "$py"
done
