#!/usr/bin/env bash
# The one set-up command: installs what runner needs (Debian packages, a running Docker engine,
# the example images), builds it, and runs examples/hello. Idempotent; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prepare.sh
echo
echo "== runner run examples/hello/component.json"
build/bin/runner run examples/hello/component.json
