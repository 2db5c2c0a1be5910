#!/usr/bin/env bash
# Style and static checks; fails on any finding (scripts/test.sh runs it first):
#   - clang-format (.clang-format) must change nothing in any C++ file of the repository;
#   - clang-tidy (.clang-tidy) must find nothing in the libraries and the CLI (every folder of
#     product code: common, docker, logging, gelf, secrets, store, shipper, runner), using
#     build/compile_commands.json from scripts/build.sh. Tests, benchmarks and fuzz targets are
#     only formatted: their Catch2 and driver macros are not what the checks are for.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/compile_commands.json ] || scripts/build.sh
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
clang-format --dry-run --Werror "${files[@]}"
mapfile -t sources < <(git ls-files 'common/*.cpp' 'docker/*.cpp' 'logging/*.cpp' 'gelf/*.cpp' \
  'secrets/*.cpp' 'store/*.cpp' 'shipper/*.cpp' 'runner/*.cpp')
# One clang-tidy per file, as many at once as there are cores; any warning is an error, so xargs
# fails when one file has a finding (and every file is still checked).
if ! printf '%s\n' "${sources[@]}" |
  xargs -P "$(nproc)" -n 1 clang-tidy -p build --quiet --warnings-as-errors='*' 2>/dev/null; then
  echo "lint: clang-tidy found problems (above)" >&2
  exit 1
fi
echo "lint: clang-format and clang-tidy found nothing in ${#files[@]} files"
