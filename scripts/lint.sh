#!/usr/bin/env bash
# Style and static checks: clang-format on every C/C++ file, clang-tidy (the
# repository's .clang-tidy) on the library's sources and the backtest harness,
# prettier on the dashboard's JavaScript. Needs a configured build/default
# (compile_commands.json); run-tests.sh makes one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/default/compile_commands.json ] || cmake --preset default >/dev/null

git ls-files '*.cc' '*.h' '*.c' | xargs clang-format --dry-run -Werror
git ls-files 'src/*.cc' 'capi/*.cc' 'examples/backtest/*.cc' | xargs -P "$(nproc)" -n 4 clang-tidy -p build/default --quiet 2>/dev/null
# The dashboard's JavaScript and CSS, with the prettier its lockfile pins.
cmake --build --preset default --target spotopt_ui_packages >/dev/null
git ls-files 'examples/server/ui/*.mjs' 'examples/server/ui/src/*.js' 'examples/server/ui/src/*.jsx' \
  'examples/server/ui/src/*.css' 'examples/server/ui/src/*.html' 'tests/ui/*.mjs' |
  xargs node build/default/examples/server/ui/node_modules/prettier/bin/prettier.cjs --check --log-level warn
echo "lint passed"
