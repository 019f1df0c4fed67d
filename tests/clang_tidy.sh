#!/usr/bin/env bash
# clang-tidy with the root .clang-tidy over every source file of the server's libraries (two at a
# time); fails on any finding. Usage: tests/clang_tidy.sh BUILD_DIR (with compile_commands.json).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$1"
cd "$root"
output=$(find core actors transport app/runtime app/demo supervision -name '*.cpp' |
           sort | xargs -P2 -n4 clang-tidy -p "$build_dir" --quiet 2>&1)
status=$?
grep -vE '^[0-9]+ warnings? generated|^Suppressed [0-9]+ warnings|^Use -header-filter' <<<"$output"
if ((status)); then
  echo "clang-tidy: findings above"
  exit 1
fi
echo "clang-tidy: no findings"
