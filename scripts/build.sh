#!/usr/bin/env bash
# Configures and builds runner into build/ (Release with debug info). Arguments are build targets
# (none: everything, the tests included); CMAKE_ARGS holds extra cmake arguments. The first
# command builds only the `runner` binary (target runner_cli); the test command builds it all.
# Ninja prints "[done/total]" for every step, so a long build shows where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2086
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
echo "== building ${*:-everything (runner, the tests, the examples)} with $(nproc) jobs"
start=$(date +%s)
cmake --build build "${targets[@]}"
echo "== built in $(($(date +%s) - start)) s"
