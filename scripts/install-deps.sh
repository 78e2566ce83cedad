#!/usr/bin/env bash
# Installs the Debian packages libspotopt builds with. Idempotent: installs only what
# is missing, and touches nothing when everything is there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache
  libboost-json1.81-dev libboost-url1.81-dev libsqlite3-dev libfmt-dev libabsl-dev libssl-dev zlib1g-dev
  # PostgresStore links libpq; its tests start a throwaway PostgreSQL 15 server.
  libpq-dev postgresql
  doctest-dev libbenchmark-dev sqlite3 libxgboost-dev
  python3 python3-requests python3-pytest python3-matplotlib
  # The dashboard's browser test: Debian's Chromium and a font to render text with.
  chromium fonts-dejavu-core
  # The fuzz preset (scripts/fuzz.sh): clang 14 and its sanitizer and libFuzzer runtimes.
  clang-14 libclang-rt-14-dev
)
# The dashboard is built with npm packages (esbuild, from its lockfile): Debian's
# Node.js and npm, unless a Node.js with its own npm is installed already.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
