#!/usr/bin/env bash
# What both set-up commands need first: Debian packages, a running Docker engine and Podman
# service, a running PostgreSQL (store tests), the images examples and tests run (in both
# engines' stores), the TLS Docker-in-Docker engine of the remote-engine tests, and a build of
# runner in build/ (docs/engines.md).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/start-docker.sh
scripts/start-podman.sh >/dev/null  # the Podman half of the e2e suite (prints its socket's URL)
scripts/start-postgres.sh >/dev/null  # the PostgreSQL store tests' server (prints its URL)
scripts/build-images.sh
scripts/start-dind.sh >/dev/null  # the remote-engine tests' engine (prints its variables)
scripts/build.sh
