#!/usr/bin/env bash
# Fetches CAF 0.17.6's source from Debian's archive, for a ThreadSanitizer build that compiles
# libcaf_core itself (-DBERYL_CAF_SOURCE=...): TSan only sees the synchronisation of instrumented
# code, and Debian's libcaf_core.so is not instrumented, so with it every message between actors
# would be reported as a race. The tarball is the upstream source of Debian 12's
# actor-framework 0.17.6-2.1 package (what libcaf-dev is built from), checked against the sha256
# of that package's signed .dsc; its libcaf_core headers are the ones in /usr/include/caf. It leaves
# out the enum-string sources, which are generated here with CAF's own generator, as CAF's
# update-enum-strings target does.
# Usage: tests/sanitizers/caf_source.sh DIR   (prints the source tree's path: DIR/actor-framework-0.17.6)
set -euo pipefail
dir="$1"
tree="$dir/actor-framework-0.17.6"
if [ ! -f "$tree/.beryl-ready" ]; then
  tarball=actor-framework_0.17.6.orig.tar.gz
  sha256=e2bf5bd243f08bb7d8adde197cfe3e6d71314ed3378fe0692f8932f4c3b3928c
  mkdir -p "$dir"
  rm -rf "$tree"
  if ! echo "$sha256  $dir/$tarball" | sha256sum --check --status 2>/dev/null; then
    echo "caf_source: downloading $tarball from deb.debian.org" >&2
    curl -sSf -o "$dir/$tarball" "http://deb.debian.org/debian/pool/main/a/actor-framework/$tarball"
    echo "$sha256  $dir/$tarball" | sha256sum --check --quiet >&2
  fi
  tar -xzf "$dir/$tarball" -C "$dir"
  core="$tree/libcaf_core"
  c++ -std=c++11 -O1 -o "$dir/caf-generate-enum-strings" "$tree/cmake/caf-generate-enum-strings.cpp"
  while read -r header source; do
    "$dir/caf-generate-enum-strings" "$core/caf/$header" "$core/src/$source"
  done <<'LIST'
sec.hpp sec_strings.cpp
pec.hpp pec_strings.cpp
stream_priority.hpp stream_priority_strings.cpp
exit_reason.hpp exit_reason_strings.cpp
invoke_message_result.hpp invoke_msg_result_strings.cpp
message_priority.hpp message_priority_strings.cpp
intrusive/inbox_result.hpp intrusive/inbox_result_strings.cpp
intrusive/task_result.hpp intrusive/task_result_strings.cpp
LIST
  touch "$tree/.beryl-ready"
fi
echo "$tree"
