#!/usr/bin/env bash
# Style and static checks; fails on any finding (scripts/test.sh runs it first):
#   - clang-format (.clang-format) must change nothing in any C++ file of the repository;
#   - clang-tidy (.clang-tidy) must find nothing in the libraries and the CLI (every folder of
#     product code: common, docker, logging (with logging/gelf), secrets, store, shipper, runner),
#     using build/compile_commands.json from scripts/build.sh. Tests, benchmarks and fuzz targets
#     are only formatted: their Catch2 and driver macros are not what the checks are for.
# clang-tidy takes seconds per file, so a file found clean is remembered in build/lint-clean by a
# hash of everything it reads (scripts/lint_keys.py); only changed files are checked again. A
# clean clone checks every file.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/compile_commands.json ] || scripts/build.sh
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
clang-format --dry-run --Werror "${files[@]}"
clean=build/lint-clean
touch "$clean"
todo=$(mktemp)
trap 'rm -f "$todo" "$todo".*' EXIT
git ls-files 'common/*.cpp' 'docker/*.cpp' 'logging/*.cpp' 'secrets/*.cpp' 'store/*.cpp' \
  'shipper/*.cpp' 'runner/*.cpp' | scripts/lint_keys.py >"$todo.keys"
total=$(wc -l <"$todo.keys")
grep -vxFf "$clean" "$todo.keys" >"$todo" || true
echo "lint: clang-tidy on $(wc -l <"$todo") of $total files (the others are unchanged since clean)"
# One clang-tidy per file, as many at once as there are cores; any warning is an error. A clean
# file's key is appended to build/lint-clean; xargs fails when any file has a finding (and every
# file is still checked).
check_one() {
  local key=$1 file=$2
  clang-tidy -p build --quiet --warnings-as-errors='*' "$file" 2>/dev/null || return 1
  echo "$key $file" >>build/lint-clean
}
export -f check_one
if ! xargs -r -P "$(nproc)" -L 1 bash -c 'check_one "$0" "$1"' <"$todo"; then
  echo "lint: clang-tidy found problems (above)" >&2
  exit 1
fi
echo "lint: clang-format and clang-tidy found nothing in ${#files[@]} files"
