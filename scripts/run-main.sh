#!/usr/bin/env bash
# The main job: build libspotopt and run the fleet simulation on the SQLite default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" --target fleet_sim
exec ./build/default/examples/fleet_sim/fleet_sim "${@:-build/fleet_sim.db}"
