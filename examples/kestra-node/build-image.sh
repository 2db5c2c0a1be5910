#!/usr/bin/env bash
# Builds runner-ex-kestra-node:latest from this folder on top of the local runner-node image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../scripts/build-images.sh" runner-node >/dev/null
DOCKER_BUILDKIT=0 docker build -q -t runner-ex-kestra-node:latest "$here" >/dev/null
echo "built runner-ex-kestra-node:latest"
