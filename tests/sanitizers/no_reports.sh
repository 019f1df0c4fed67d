#!/usr/bin/env bash
# Runs a command with every sanitizer report of the processes it starts (the e2e suite's servers)
# written under REPORT_DIR, then fails if any report is there, printing it: a server's leak or
# error at exit would otherwise only change an exit status that the tests do not read.
# Usage: tests/sanitizers/no_reports.sh REPORT_DIR COMMAND [ARGS...]
set -uo pipefail
dir="$1"
shift
rm -rf "$dir"
mkdir -p "$dir"
for var in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS; do
  export "$var=${!var:+${!var}:}log_path=$dir/report"
done
"$@"
status=$?
shopt -s nullglob
reports=("$dir"/report.*)
if ((${#reports[@]})); then
  for report in "${reports[@]}"; do
    echo "==== $report"
    cat "$report"
  done
  echo "no_reports: ${#reports[@]} sanitizer report(s) above"
  exit 1
fi
exit "$status"
