#!/usr/bin/env bash
# What both set-up commands need first: Debian packages, a running Docker engine, a running
# PostgreSQL (store tests, and the shared store to try), the images examples and tests run (also
# loaded into Podman's store), and a build in build/ of the targets given as arguments (none:
# everything; setup.sh asks for the runner binary only). The engines only the tests use
# (the Podman service, the TLS Docker-in-Docker engine: docs/engines.md) are started by
# scripts/test.sh, so the first command does not wait for them.
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/start-docker.sh
scripts/start-postgres.sh >/dev/null  # the PostgreSQL store tests' server (prints its URL)
scripts/build-images.sh
scripts/build.sh "$@"
