#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a consumer
# against it with find_package(spotopt CONFIG) and with pkg-config.
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$here/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
"$work/build/consumer_shared"
"$work/build/consumer_static"

libdir=$(find "$work/prefix" -name spotopt.pc -printf '%h\n')
export PKG_CONFIG_PATH="$libdir"
g++ -std=c++20 "$here/consumer/main.cc" -o "$work/consumer_pc" $(pkg-config --cflags --libs spotopt) \
  -Wl,-rpath,"$(pkg-config --variable=libdir spotopt)" -labsl_status -labsl_statusor -labsl_time \
  -labsl_time_zone -labsl_synchronization
"$work/consumer_pc"

# Only what is marked for export leaves the shared library.
so=$(find "$work/prefix" -name 'libspotopt.so.0' | head -n 1)
if nm -D --defined-only "$so" | grep -E ' T ' | grep -v 'spotopt' | grep -q .; then
  echo "unexpected exported symbols:"; nm -D --defined-only -C "$so" | grep ' T ' | grep -v spotopt | head
  exit 1
fi
# The C ABI's symbols (unmangled) share one prefix, so they cannot collide with a host's.
c_symbols=$(nm -D --defined-only "$so" | awk '$2 == "T" && $3 !~ /^_Z/ {print $3}')
if [ -z "$c_symbols" ]; then
  echo "the C ABI is not exported"; exit 1
fi
if grep -v '^spotopt_' <<<"$c_symbols" | grep -q .; then
  echo "exported C symbols without the spotopt_ prefix:"; grep -v '^spotopt_' <<<"$c_symbols"
  exit 1
fi
[ -f "$work/prefix/include/spotopt/spotopt.h" ] || { echo "spotopt/spotopt.h is not installed"; exit 1; }
echo "install test passed"
