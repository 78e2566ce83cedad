#!/usr/bin/env bash
# Style and static checks: clang-format on every C/C++ file, clang-tidy (the
# repository's .clang-tidy) on the library's sources and the backtest harness. Needs a configured
# build/default (compile_commands.json); run-tests.sh makes one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/default/compile_commands.json ] || cmake --preset default >/dev/null

git ls-files '*.cc' '*.h' '*.c' | xargs clang-format --dry-run -Werror
git ls-files 'src/*.cc' 'capi/*.cc' 'examples/backtest/*.cc' | xargs -P "$(nproc)" -n 4 clang-tidy -p build/default --quiet 2>/dev/null
echo "lint passed"
