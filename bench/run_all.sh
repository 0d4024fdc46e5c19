#!/usr/bin/env bash
# Runs every benchmark against the build in $1 (default build/release) and prints their ratios.
# The C++ benchmarks are the executables listed in $1/bench/benchmarks.txt (they live in $1/bin/).
set -euo pipefail
build="${1:-build/release}"
list="$build/bench/benchmarks.txt"
[ -f "$list" ] || { echo "$list is missing; run: make build" >&2; exit 1; }
while IFS= read -r b; do
  [ -n "$b" ] || continue
  if [ -x "$b" ]; then
    echo "== $(basename "$b")"
    "$b"
  fi
done <"$list"
for py in "$(dirname "$0")"/*.py; do
  [ -f "$py" ] || continue
  echo "== $(basename "$py")"
  INFERENCE_BUILD_DIR="$build" python3 "$py"
done
