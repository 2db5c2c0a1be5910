#!/usr/bin/env bash
# The one set-up command: installs what runner needs (Debian packages, a running Docker engine,
# the example images), builds the runner binary (only it: the test command builds the tests),
# and runs examples/hello. Each step says what it does and how long it took. Idempotent; run as
# root.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/prepare.sh runner_cli
echo "== set up in $(($(date +%s) - start)) s"
echo
echo "== runner run examples/hello/component.json"
build/bin/runner run examples/hello/component.json
