#!/usr/bin/env bash
# Builds the fuzz preset and runs each fuzz target (fuzz/README.md) for SECONDS
# (default 60), one after another, on its corpus, the committed seeds, the seeds taken
# from the tests, and its dictionary. Exits non-zero when any target crashed, leaked,
# hit undefined behaviour or hung; the input that did it stays in
# build/fuzz/crashes/TARGET/ and the run's log in build/fuzz/logs/TARGET.log.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# The corpus each run grows is kept in build/fuzz/corpus/TARGET, so a later run
# starts where the last one stopped. Extra libFuzzer flags: FUZZ_FLAGS="-runs=N ...".
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(protocol capi config_patch price_files advisor codec)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)" --target "${targets[@]/%/_fuzzer}"

out=build/fuzz
rm -rf "$out/seeds"
python3 fuzz/seeds.py "$out/seeds"
mkdir -p "$out/dict" "$out/logs"

# Undefined behaviour stops the run with a stack (the build sets
# -fno-sanitize-recover); an input slower than 10 s is a hang.
export UBSAN_OPTIONS=print_stacktrace=1
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t" "$out/crashes/$t" "$out/seeds/$t"
  if [ "$t" = price_files ]; then
    cp fuzz/dict/price_files.dict "$out/dict/$t.dict"
  else
    cat fuzz/dict/json.dict "fuzz/dict/$t.dict" >"$out/dict/$t.dict"
  fi
  echo "== $t: ${seconds}s"
  # shellcheck disable=SC2086  # FUZZ_FLAGS is a list of flags
  if "$out/fuzz/${t}_fuzzer" "$out/corpus/$t" "fuzz/corpus/$t" "$out/seeds/$t" \
    -dict="$out/dict/$t.dict" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/crashes/$t/" -print_final_stats=1 ${FUZZ_FLAGS:-} \
    >"$out/logs/$t.log" 2>&1; then
    grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units' "$out/logs/$t.log" || true
  else
    failed+=("$t")
    tail -n 40 "$out/logs/$t.log"
    echo "!! $t failed: $(ls -t "$out/crashes/$t" | head -n 1)"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]} (inputs in $out/crashes/)"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no failures"
