#!/usr/bin/env bash
# Installs the Debian 12 packages runner needs to build, test and run. Idempotent: apt-get runs
# only when a package is missing. Must run as root (or through sudo).
#   install-deps.sh        everything (the test command, scripts/test.sh)
#   install-deps.sh setup  only what the first command (scripts/setup.sh) needs: the build of the
#                          runner binary, a Docker engine and the runner-busybox image; the other
#                          packages (about 1 GB of the 1.5 GB: PostgreSQL, clang and its tools,
#                          Podman, mmdebstrap and npm for the other images) come with a plain run
#   --list (last argument) prints the package names, one a line, and installs nothing
set -euo pipefail

packages=(
  # build
  cmake g++ ninja-build pkg-config git
  libcurl4-openssl-dev libarchive-dev nlohmann-json3-dev libboost-dev libssl-dev libspdlog-dev libfmt-dev
  catch2 libcli11-dev zlib1g-dev libsqlite3-dev libpq-dev libyaml-cpp-dev libsimdjson-dev libzstd-dev
  # the engine, and runner-busybox built without a registry
  docker.io busybox-static iproute2 curl
)
if [ "${1:-}" != setup ]; then
  packages+=(
    # the store (PostgreSQL server for many runners and for the tests) and the syslog exporter tests
    postgresql rsyslog
    clang libclang-rt-14-dev clang-format clang-tidy
    # the other images (mmdebstrap bookworm roots)
    mmdebstrap
    # Podman's Docker-compatible service (docs/engines.md): its network stack and init
    podman netavark aardvark-dns catatonit
    # certificates for the TLS engine tests
    openssl
    # benchmarks
    hyperfine time
  )
  # npm fetches @kestra-io/libs for the runner-node image; any npm will do (Debian's if none).
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

if [ "${!#:-}" = --list ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# -q, not -qq: apt prints each package as it fetches and sets it up (progress on the longest step).
apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
