#!/usr/bin/env bash
# The one test command: everything setup.sh installs and builds, the engines only tests use
# (Podman's service, the TLS Docker-in-Docker engine), lint (scripts/lint.sh: clang-format and
# clang-tidy over every folder; a finding fails the run), short fuzzing runs, then the whole suite
# (unit and end-to-end tests against the real engines) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prepare.sh
scripts/start-podman.sh >/dev/null  # the Podman half of the e2e suite (prints its socket's URL)
scripts/start-dind.sh >/dev/null    # the remote-engine tests' engine (prints its variables)
# clang-tidy parses every translation unit again (minutes on two cores), and the end-to-end tests
# mostly wait on the engines: lint runs alongside the fuzzing and the suite, at the lowest CPU
# priority so the tests' timing is not its to spend, and its verdict is awaited at the end.
echo "== lint (scripts/lint.sh) alongside the rest (log: build/lint.log)"
setsid nice -n 19 scripts/lint.sh >build/lint.log 2>&1 &
lint_pid=$!
# lint runs in a session of its own so that an interrupted or failed test run also ends it and
# every clang-tidy it started.
trap 'kill -- -"$lint_pid" 2>/dev/null || true' EXIT
lint_verdict() {
  if wait "$lint_pid"; then
    tail -1 build/lint.log
  else
    cat build/lint.log
    echo "lint found problems (above; log: build/lint.log)" >&2
    return 1
  fi
}
# Short fuzzing runs of the hostile-input parsers before the suite (so ctest's summary ends the
# output): the secret scrubber, the GELF decoder/assembler/framers/readers, the Kestra parser
# (both with simdjson's reading compared with nlohmann's), the component parser and the ship
# config parser.
for target in scrubber gelf kestra component ship-config; do
  case "$target" in
    scrubber) fuzz=(fuzz/build_and_run.sh) ;;
    gelf) fuzz=(fuzz/build_and_run_gelf.sh) ;;
    kestra) fuzz=(fuzz/build_and_run_kestra.sh) ;;
    *) fuzz=(fuzz/build_and_run_config.sh "$target") ;;
  esac
  echo "== fuzzing the $target for ${FUZZ_SECONDS:-15} s (log: build/fuzz-$target.log)"
  if ! FUZZ_WORK="build/fuzz-$target" "${fuzz[@]}" "${FUZZ_SECONDS:-15}" >"build/fuzz-$target.log" 2>&1; then
    tail -40 "build/fuzz-$target.log"
    echo "fuzzing the $target found a problem: see build/fuzz-$target.log and build/fuzz-$target/" >&2
    lint_verdict || true
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|Done)' "build/fuzz-$target.log" || true
done
# The PostgreSQL store tests ([store][postgres]) connect here; prepare.sh started the server, this
# only reads its URL. A URL set by the caller wins.
if [ -z "${RUNNER_TEST_POSTGRES_URL:-}" ]; then
  RUNNER_TEST_POSTGRES_URL=$(scripts/start-postgres.sh)
  export RUNNER_TEST_POSTGRES_URL
fi
status=0
ctest --test-dir build --output-on-failure -j2 "$@" || status=$?
lint_verdict || status=1
exit "$status"
