#!/usr/bin/env bash
# The CMake package as a user meets it (tests/CMakeLists.txt). Usage: check.sh SOURCE BUILD SCRATCH
set -euo pipefail
source_dir="$1" build_dir="$2" scratch="$3"
rm -rf "$scratch"
mkdir -p "$scratch"

echo "package: cmake --install into $scratch/prefix"
cmake --install "$build_dir" --prefix "$scratch/prefix" >/dev/null
test -f "$scratch/prefix/lib/cmake/beryl_cpp/beryl_cppConfigVersion.cmake"
test -f "$scratch/prefix/include/beryl/app/runtime/server.hpp"

echo "package: a tiny app built with find_package(beryl_cpp)"
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$source_dir/tests/package/app" -B "$scratch/app" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" "${launcher[@]}" >/dev/null
cmake --build "$scratch/app" -j2 >/dev/null
app="$scratch/app/tiny_app"
# Into a file first: the help is longer than a pipe write, and head would close the pipe early.
"$app" --help >"$scratch/help.txt"
head -1 "$scratch/help.txt" | grep -qx "usage: tiny_app \[options\]"
"$scratch/app/echo_test"  # its channel, tested with the installed kit

echo "package: the tiny app serves, http and https (a certificate made here)"
cert="$scratch/cert.pem" key="$scratch/key.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$key" -out "$cert" \
  -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
# Starts the app with "$@" (log in $log), sets pid and port.
start_app() {
  "$app" --host 127.0.0.1 --port 0 "$@" >"$log" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log"; exit 1; }
}
log="$scratch/app.log"
start_app --tls-cert "$cert" --tls-key "$key"
healthy=""
for _ in $(seq 50); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ]; then
    healthy=yes
    break
  fi
  sleep 0.1
done
[ -n "$healthy" ] || { cat "$log"; exit 1; }
status=$(curl -s --cacert "$cert" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/healthz")
[ "$status" = 200 ] || { echo "https /healthz answered $status"; cat "$log"; exit 1; }
# A WebSocket upgrade over TLS: curl prints the 101 and waits on the open socket until -m.
upgrade=$(curl -s -i -m 2 --http1.1 --cacert "$cert" -H "Connection: Upgrade" -H "Upgrade: websocket" \
  -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" \
  "https://127.0.0.1:$port/socket/websocket?vsn=2.0.0" || true)
echo "$upgrade" | head -1 | grep -q "101 Switching Protocols" ||
  { echo "no wss upgrade: $upgrade"; exit 1; }
tree=$(curl -s "http://127.0.0.1:$port/debug/supervision")
echo "$tree" | grep -q '"name":"services"' || { echo "no services in $tree"; exit 1; }
echo "$tree" | grep -q '"name":"greeter","kind":"worker","restart":"permanent","state":"running"' ||
  { echo "the app's greeter is not running under services: $tree"; exit 1; }
kill -TERM "$pid"
wait "$pid"  # exits 0 after a graceful shutdown
trap - EXIT

echo "package: an actor spawned outside the tree does not keep the app from exiting"
log="$scratch/stray.log"
start_app --stray-actor
started=$(date +%s)
kill -TERM "$pid"
wait "$pid"
trap - EXIT
[ $(($(date +%s) - started)) -le 15 ] || { echo "the app took over 15 s to exit"; exit 1; }
grep -q "1 actor(s) outside the supervision tree still running" "$log" || { cat "$log"; exit 1; }

echo "package: add_subdirectory() needs no doctest and brings none of our tests"
cmake -S "$source_dir/tests/package/subdir" -B "$scratch/subdir" -DBERYL_SOURCE="$source_dir" \
  -DCMAKE_DISABLE_FIND_PACKAGE_doctest=ON >/dev/null
tests=$(cd "$scratch/subdir" && ctest -N | sed -n 's/^Total Tests: //p')
[ "$tests" = 0 ] || { echo "add_subdirectory registered $tests tests"; exit 1; }
echo "package: ok"
