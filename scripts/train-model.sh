#!/usr/bin/env bash
# Trains the price model (models/price-24h) from the real price history in
# ../shared/data with Debian's python3-xgboost, through tools/model/train.py.
#
#   scripts/train-model.sh            retrain: rewrites models/price-24h
#   scripts/train-model.sh --check    retrain into build/model-env/check and compare
#                                     with the committed model, byte for byte
#
# Why not `apt-get install python3-xgboost`: it depends on python3-scipy, which
# depends on python3-pythran, which depends on libboost-dev (Boost 1.74), and that
# conflicts with libboost1.81-dev, which the library builds with. So the Python
# packages are unpacked (dpkg -x) into a private root under build/model-env and run
# from there with Debian's /usr/bin/python3; only their runtime libraries, which
# conflict with nothing, are installed with apt. Idempotent: a second run downloads
# and installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

env_dir=build/model-env
site="$env_dir/root/usr/lib/python3/dist-packages"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

runtime=(python3 python3-numpy libblas3 liblapack3 libgfortran5 liblbfgsb0 libxgboost0)
missing=()
for p in "${runtime[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$site/xgboost/__init__.py" ]; then
  # The Python package must be the C library's own version: it loads that library.
  xgboost_version=$(dpkg-query -W -f='${Version}' libxgboost0)
  rm -rf "$env_dir/debs" "$env_dir/root.new"
  mkdir -p "$env_dir/debs"
  # As root, apt drops to the _apt user to download, who cannot write into this
  # folder; downloading as root here is what apt would fall back to anyway.
  sandbox=()
  [ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)
  download() {
    (cd "$env_dir/debs" && apt-get download -qq "${sandbox[@]}" \
      "python3-xgboost=$xgboost_version" python3-scipy python3-decorator)
  }
  download || { $sudo apt-get update -qq && download; }
  for deb in "$env_dir"/debs/*.deb; do dpkg -x "$deb" "$env_dir/root.new"; done
  rm -rf "$env_dir/root"
  mv "$env_dir/root.new" "$env_dir/root"
fi
# The package's own link to libxgboost.so is relative to /usr and dangles here.
ln -sfn "$(dpkg -L libxgboost0 | grep '/libxgboost\.so\.0$')" "$site/xgboost/lib/libxgboost.so"

train() { PYTHONPATH="$site" /usr/bin/python3 tools/model/train.py --data ../shared/data "$@"; }

if [ "${1:-}" = "--check" ]; then
  rm -rf "$env_dir/check"
  train --out "$env_dir/check"
  for f in model.json manifest.json; do
    cmp "models/price-24h/$f" "$env_dir/check/$f"
  done
  echo "retrained model and manifest are byte-identical to models/price-24h"
else
  train --out models/price-24h
fi
