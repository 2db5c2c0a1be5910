#!/usr/bin/env bash
# The one test command: everything setup.sh installs and builds, then the whole suite
# (unit and end-to-end tests against the real engine) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/start-docker.sh
scripts/build-images.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 "$@"
