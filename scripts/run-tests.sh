#!/usr/bin/env bash
# Every test: builds the default preset (warnings are errors) and runs the whole
# suite through ctest. Reads the real data from ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)"
ctest --preset default -j"$(nproc)"
