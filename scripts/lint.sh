#!/usr/bin/env bash
# Style and static checks: clang-format (must change nothing) and clang-tidy (.clang-tidy) over the
# libraries and the CLI, using build/compile_commands.json from scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/compile_commands.json ] || scripts/build.sh
files=$(git ls-files 'docker/*.[ch]pp' 'logging/*.[ch]pp' 'logging/gelf/*.[ch]pp' 'secrets/*.[ch]pp' 'runner/*.[ch]pp')
clang-format --dry-run --Werror $files
clang-tidy -p build --quiet $(echo "$files" | grep '\.cpp$') 2>&1 | grep -E '^/.*(warning|error):' | grep -v '^/usr/' || true
