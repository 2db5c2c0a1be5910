#!/usr/bin/env bash
# What the test command (scripts/test.sh) needs first: every Debian package, a running Docker
# engine, a running PostgreSQL (store tests, and the shared store to try), all the images
# examples and tests run (also loaded into Podman's store), and a build in build/ of the targets
# given as arguments (none: everything). The first command, scripts/setup.sh, does a smaller set
# of the same steps. The engines only the tests use (the Podman service, the TLS Docker-in-Docker
# engine: docs/engines.md) are started by scripts/test.sh itself.
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/start-docker.sh
scripts/start-postgres.sh >/dev/null  # the PostgreSQL store tests' server (prints its URL)
scripts/build-images.sh
scripts/build.sh "$@"
