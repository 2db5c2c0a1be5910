#!/usr/bin/env bash
# Engine benchmarks (issue 16): `runner run` on each engine it supports, side by side in one run
# with that engine's own CLI, on the same image:
#   - Docker (unix socket, bind mounts) vs `docker run --rm`
#   - Podman's rootful service (unix socket, bind mounts) vs `podman run --rm`
#   - the remote TLS Docker-in-Docker engine (tcp://, file handling by copy) vs
#     `docker --host tcp://... --tlsverify run --rm`
# for (1) a trivial container (`true`) and (2) 2,000,000 lines (166 MB) of stdout (runner's events
# to a JSON Lines file on tmpfs, the CLIs' output to /dev/null). Prints a Markdown table per
# workload; copy it into docs/BENCHMARKS.md. Needs scripts/setup.sh (and it starts the Podman
# service and the DinD engine itself, both idempotently).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNNER=${RUNNER:-$PWD/build/bin/runner}
IMAGE=runner-busybox:latest
RUNS_START=${RUNS_START:-15}
RUNS_BIG=${RUNS_BIG:-3}
export RUNNER_STORE=none
scripts/start-podman.sh >/dev/null
eval "$(scripts/start-dind.sh | sed 's/^/remote_/')"
work=$(mktemp -d)
events=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work" "$events"' EXIT
line=$(printf 'x%.0s' $(seq 1 82))
echo "{\"id\": \"bench.trivial\", \"image\": \"$IMAGE\", \"command\": [\"true\"]}" >"$work/trivial.json"
echo "{\"id\": \"bench.big\", \"image\": \"$IMAGE\", \"command\": [\"sh\", \"-c\", \"yes $line | head -n 2000000\"], \"limits\": {\"timeout\": 600}}" >"$work/big.json"
podman_host=unix:///run/podman/podman.sock
remote_env="DOCKER_HOST=$remote_DOCKER_HOST DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$remote_DOCKER_CERT_PATH"
remote_cli="docker --host $remote_DOCKER_HOST --tlsverify --tlscacert $remote_DOCKER_CERT_PATH/ca.pem --tlscert $remote_DOCKER_CERT_PATH/cert.pem --tlskey $remote_DOCKER_CERT_PATH/key.pem"
big_cmd="sh -c 'yes $line | head -n 2000000' >/dev/null"

echo "- Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "- Engines: Docker $(docker version -f '{{.Server.Version}}'), Podman $(podman version -f '{{.Server.Version}}' 2>/dev/null || podman --version), remote: Docker $($remote_cli version -f '{{.Server.Version}}') in a privileged Podman container (TLS, 127.0.0.1)"
echo "- runner: $($RUNNER --version) ($(git rev-parse --short HEAD)), $(date -u +%Y-%m-%dT%H:%MZ)"
echo

table() {  # $1 = hyperfine JSON
  python3 - "$1" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
print("| command | median | mean ± σ | min |")
print("|---|---|---|---|")
for x in r:
    t = [v * 1000 for v in x["times"]]
    print(f"| {x['command']} | {statistics.median(t):.0f} ms | {statistics.mean(t):.0f} ± {statistics.pstdev(t):.0f} ms | {min(t):.0f} ms |")
PY
}

hyperfine --style none --warmup 2 --runs "$RUNS_START" --export-json "$work/start.json" \
  -n "runner run (Docker, mounts)" "$RUNNER run $work/trivial.json --quiet" \
  -n "docker run --rm" "docker run --rm $IMAGE true" \
  -n "runner run (Podman, mounts)" "DOCKER_HOST=$podman_host $RUNNER run $work/trivial.json --quiet" \
  -n "podman run --rm" "podman run --rm $IMAGE true" \
  -n "runner run (remote, copy)" "$remote_env $RUNNER run $work/trivial.json --quiet" \
  -n "docker --host tcp://... run --rm" "$remote_cli run --rm $IMAGE true" >/dev/null 2>&1
echo "### A trivial container (\`true\`), $RUNS_START runs each"
echo
table "$work/start.json"
echo

hyperfine --style none --warmup 1 --runs "$RUNS_BIG" --export-json "$work/big.out.json" \
  -n "runner run (Docker, mounts)" "$RUNNER run $work/big.json --quiet --events $events/e.jsonl" \
  -n "docker run --rm" "docker run --rm $IMAGE $big_cmd" \
  -n "runner run (Podman, mounts)" "DOCKER_HOST=$podman_host $RUNNER run $work/big.json --quiet --events $events/e.jsonl" \
  -n "podman run --rm" "podman run --rm $IMAGE $big_cmd" \
  -n "runner run (remote, copy)" "$remote_env $RUNNER run $work/big.json --quiet --events $events/e.jsonl" \
  -n "docker --host tcp://... run --rm" "$remote_cli run --rm $IMAGE $big_cmd" >/dev/null 2>&1
echo "### 2,000,000 lines (166 MB) of stdout, $RUNS_BIG runs each"
echo
table "$work/big.out.json"
