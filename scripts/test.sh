#!/usr/bin/env bash
# The one test command: everything setup.sh installs and builds, a short fuzzing run of the
# secret scrubber, then the whole suite (unit and end-to-end tests against the real engine)
# through ctest, whose summary line ends the output.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prepare.sh
echo "== fuzzing the secret scrubber for ${FUZZ_SECONDS:-20} s (log: build/fuzz.log)"
if ! FUZZ_WORK=build/fuzz fuzz/build_and_run.sh "${FUZZ_SECONDS:-20}" >build/fuzz.log 2>&1; then
  tail -40 build/fuzz.log
  echo "fuzzing found a problem: see build/fuzz.log and build/fuzz/" >&2
  exit 1
fi
grep -E '^(stat::number_of_executed_units|Done)' build/fuzz.log || true
ctest --test-dir build --output-on-failure -j2 "$@"
