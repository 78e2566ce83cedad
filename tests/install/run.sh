#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a consumer
# against it with find_package(spotopt CONFIG) and with pkg-config, compiles and runs
# the C ABI's public-API suites (tests/capi) against the installed header and
# library alone, checks the price model is installed, and imports the installed
# Python package with Debian's python3.
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
for f in model.json manifest.json; do
  [ -f "$work/prefix/share/spotopt/models/price-24h/$f" ] || { echo "the price model's $f is not installed"; exit 1; }
done

# The C ABI from strict C99 against the installed header and library only: every
# function and error path, then several threads on one controller.
so_dir=$(dirname "$so")
for suite in capi_test capi_threads_test; do
  cc -std=c99 -pedantic -Wall -Wextra -Werror -pthread -I"$work/prefix/include" \
    "$here/../capi/$suite.c" -o "$work/$suite" -L"$so_dir" -lspotopt -Wl,-rpath,"$so_dir"
  "$work/$suite"
done

# The Python package finds the installed library through its generated _config.py,
# with nothing from the build tree on the path.
site=$(find "$work/prefix" -path '*/dist-packages/spotopt/__init__.py' -printf '%h\n')
[ -f "$site/_config.py" ] || { echo "the Python package is not installed"; exit 1; }
(cd "$work" && env -u SPOTOPT_LIBRARY PYTHONPATH="$(dirname "$site")" /usr/bin/python3 - "$work/prefix" <<'PY'
import json, os, sys
import spotopt
prefix = os.path.realpath(sys.argv[1])
assert os.path.realpath(spotopt._lib._name).startswith(prefix), spotopt._lib._name
assert os.path.realpath(spotopt.__file__).startswith(prefix), spotopt.__file__
with spotopt.Controller("memory:") as c:
    tenant, token = c.create_tenant("installed")
    r = c.handle_http("POST", "/api/agents/register",
                      headers={"Authorization": f"Bearer {token}"},
                      body=json.dumps({"instance_id": "i-0123456789abcdef0", "region": "us-east-1",
                                       "instance_type": "m5.large", "az": "us-east-1a"}).encode())
    assert r.status == 201, r
    assert c.heartbeat(tenant, json.loads(r.body)["agent_id"]) == 1
    assert c.agents(tenant)[0]["liveness"] == "online"
print("python package ok:", spotopt.version())
PY
)
echo "install test passed"
