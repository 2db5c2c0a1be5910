#!/usr/bin/env bash
# The one set-up command: installs what runner and the examples need (the Debian packages of
# `install-deps.sh setup`, a running Docker engine, the runner-busybox image), builds the runner
# binary (only it), and runs examples/hello. The test command (scripts/test.sh) installs, starts
# and builds the rest: PostgreSQL, Podman, clang's tools, the other images, the tests. Each step
# says what it does and how long it took. Idempotent; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() {  # name, command...: runs it and says how long it took
  local name=$1 t0
  shift
  t0=$(date +%s)
  "$@"
  echo "== $name took $(($(date +%s) - t0)) s"
}
step "install (install-deps.sh setup)" scripts/install-deps.sh setup
step "engine (start-docker.sh)" scripts/start-docker.sh
step "image (build-images.sh runner-busybox)" scripts/build-images.sh runner-busybox
step "build (build.sh runner_cli)" scripts/build.sh runner_cli
echo "== set up in $(($(date +%s) - start)) s"
echo
echo "== runner run examples/hello/component.json"
build/bin/runner run examples/hello/component.json
