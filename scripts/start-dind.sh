#!/usr/bin/env bash
# A Docker engine "on another machine" for the remote-engine tests and benchmarks: Debian's
# dockerd in a privileged Docker-in-Docker container on this machine, listening with TLS (client
# certificates required) on 127.0.0.1:23760, the way a remote engine is set up.
# The container runs on the local Podman service (rootful), not on the local dockerd: Docker's
# --privileged asks for every capability there is, and on a sandboxed machine without
# CAP_SYS_RESOURCE runc then refuses it ("unable to apply caps"); Podman's --privileged gives the
# capabilities this machine has.
#   - image localhost/runner-dind:latest: mmdebstrap bookworm + docker.io, imported into Podman
#     (no registry), rebuilt only when its inputs change (a label holds their hash);
#   - certificates made with openssl in $RUNNER_DIND_DIR/certs: a CA, the engine's certificate
#     (names localhost and 127.0.0.1) and a client certificate (client/{ca,cert,key}.pem: the
#     DOCKER_CERT_PATH folder);
#   - the container runner-dind, its /var/lib/docker on the host disk ($RUNNER_DIND_DIR/docker);
#     its own bridge is 172.29.0.0/16; its containers reach this host at Podman's gateway
#     10.88.0.1 (masqueraded as the DinD container's address), where a job's GELF server listens
#     (--gelf-address, docs/engines.md);
#   - the test images (runner-busybox, runner-python-gelf) loaded into it.
# Idempotent. Prints the variables a client needs, one per line (for `eval`/`export`):
#     DOCKER_HOST=tcp://127.0.0.1:23760 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=...
# `scripts/start-dind.sh stop` removes the container (the local engines keep running).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "start-dind: $*" >&2; }
dir=${RUNNER_DIND_DIR:-/var/lib/runner-dind}
name=runner-dind
image=localhost/runner-dind:latest
port=23760
bip=172.29.0.1/16

if [ "${1:-}" = stop ]; then
  podman rm -f "$name" >/dev/null 2>&1 || true
  say "removed $name"
  exit 0
fi
scripts/start-docker.sh >&2  # the images to load come from the local dockerd
scripts/start-podman.sh >/dev/null

build_image() {
  local hash stage
  hash=$(printf '%s' "$(declare -f build_image)" | sha256sum | cut -c1-16)
  if [ "$(podman image inspect -f '{{ index .Labels "io.runner.inputs" }}' "$image" 2>/dev/null)" = "$hash" ]; then
    return
  fi
  stage=$(mktemp -d)
  say "building $image (mmdebstrap bookworm + docker.io)"
  mmdebstrap --quiet --variant=minbase --include=docker.io,iptables,procps,ca-certificates \
    --customize-hook='mkdir -p "$1/certs" "$1/var/lib/docker"' \
    bookworm "$stage/rootfs.tar"
  podman import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "LABEL io.runner.inputs=$hash" \
    "$stage/rootfs.tar" "$image" >/dev/null
  rm -rf "$stage"
  say "built $image"
}

make_certs() {
  local c=$dir/certs
  if [ -f "$c/client/key.pem" ] && [ -f "$c/server/key.pem" ] &&
    openssl x509 -checkend 86400 -noout -in "$c/server/cert.pem" >/dev/null 2>&1; then
    return
  fi
  say "making TLS certificates in $c"
  rm -rf "$c"
  mkdir -p "$c/server" "$c/client"
  (
    cd "$c"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=runner test CA" \
      -keyout ca-key.pem -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout server/key.pem -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 365 \
      -extfile server.ext -out server/cert.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=runner client" \
      -keyout client/key.pem -out client.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 365 \
      -extfile client.ext -out client/cert.pem 2>/dev/null
    cp ca.pem server/ca.pem
    cp ca.pem client/ca.pem
    rm -f ./*.csr ./*.ext ca.srl
  )
}

ping() {
  curl -sf --max-time 3 --cacert "$dir/certs/client/ca.pem" --cert "$dir/certs/client/cert.pem" \
    --key "$dir/certs/client/key.pem" "https://127.0.0.1:$port/_ping" >/dev/null 2>&1
}

build_image
make_certs
if ! ping; then
  state=$(podman inspect -f '{{.State.Status}}' "$name" 2>/dev/null || true)
  pid=$(podman inspect -f '{{.State.Pid}}' "$name" 2>/dev/null || true)
  if [ "$state" = running ] && { [ -z "$pid" ] || [ "$pid" = 0 ] || [ ! -d "/proc/$pid" ]; }; then
    # Podman still records it as running, but its processes were killed (with the service that
    # started them): only a new container clears that. Its /var/lib/docker is on the host disk.
    say "$name is recorded as running but its processes are gone: recreating it"
    podman rm -f "$name" >/dev/null 2>&1 || true
    state=
  fi
  if [ -n "$state" ] && [ "$state" != running ]; then
    podman start "$name" >/dev/null
  elif [ -z "$state" ]; then
    mkdir -p "$dir/docker"
    say "starting $name on 127.0.0.1:$port"
    # From $dir: the container's conmon keeps the working folder (and writes `oom` files there).
    (cd "$dir" && podman run -d --privileged --name "$name" --label io.runner.test=dind \
      -p "127.0.0.1:$port:2376" \
      -v "$dir/certs/server:/certs:ro" -v "$dir/docker:/var/lib/docker" \
      "$image" dockerd --host=tcp://0.0.0.0:2376 --tlsverify --tlscacert=/certs/ca.pem \
      --tlscert=/certs/cert.pem --tlskey=/certs/key.pem --bip="$bip" >/dev/null)
  fi
  for _ in $(seq 1 120); do
    ping && break
    sleep 0.5
  done
  if ! ping; then
    say "the engine in $name did not answer within 60 s:"
    podman logs --tail 20 "$name" >&2 || true
    exit 1
  fi
fi

remote=(docker --host "tcp://127.0.0.1:$port" --tlsverify --tlscacert "$dir/certs/client/ca.pem"
  --tlscert "$dir/certs/client/cert.pem" --tlskey "$dir/certs/client/key.pem")
for img in runner-busybox:latest runner-python-gelf:latest; do
  want=$(docker image inspect -f '{{ index .Config.Labels "io.runner.inputs" }}' "$img")
  have=$("${remote[@]}" image inspect -f '{{ index .Config.Labels "io.runner.inputs" }}' "$img" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    docker save "$img" | "${remote[@]}" load >/dev/null
    say "loaded $img into $name"
  fi
done
say "the engine in $name answers on tcp://127.0.0.1:$port (TLS)"
echo "DOCKER_HOST=tcp://127.0.0.1:$port"
echo "DOCKER_TLS_VERIFY=1"
echo "DOCKER_CERT_PATH=$dir/certs/client"
