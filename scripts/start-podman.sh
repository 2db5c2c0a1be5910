#!/usr/bin/env bash
# Makes sure Podman's Docker-compatible API answers on /run/podman/podman.sock (rootful), for
# running components on Podman and for the e2e suite's Podman half (docs/engines.md).
#   1. installs Debian's podman (with netavark, the network stack, and catatonit) when missing;
#   2. writes /etc/containers/containers.conf.d/50-runner.conf with default_ulimits within this
#      machine's hard limits: Podman's own defaults (nofile 1048576) exceed the hard limits of a
#      sandboxed machine, and every container then fails with "error setting rlimit type 7";
#   3. starts `podman system service --time=0` in the background (no systemd needed) when nothing
#      answers /_ping, and waits for it.
# Idempotent; run as root. Prints the socket's URL (unix:///run/podman/podman.sock) on stdout and
# everything else on stderr, so that `host=$(scripts/start-podman.sh)` works.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "start-podman: $*" >&2; }
sock=/run/podman/podman.sock
log=/var/log/runner-podman.log

if [ "$(id -u)" -ne 0 ]; then
  say "run as root (rootful Podman: the socket is $sock)"
  exit 1
fi
if ! command -v podman >/dev/null 2>&1; then
  say "podman is not installed; running scripts/install-deps.sh"
  scripts/install-deps.sh >&2
fi

# Limits a container gets by default: the machine's hard limits, capped at what the Podman service
# itself runs with (it sets its own nofile to at most 1048576 and nproc to 32768 at start-up, and
# a container cannot be given more than the service that starts it has).
cap() { if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi; }
nofile=$(cap "$(ulimit -Hn)" 1048576)
nproc=$(cap "$(ulimit -Hu)" 32768)
conf=/etc/containers/containers.conf.d/50-runner.conf
wanted="# Written by runner's scripts/start-podman.sh: container rlimits within this machine's hard
# limits (Podman's defaults exceed them here, and runc then refuses every container).
[containers]
default_ulimits = [
  \"nofile=$nofile:$nofile\",
  \"nproc=$nproc:$nproc\",
]"
if [ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]; then
  mkdir -p "$(dirname "$conf")"
  printf '%s\n' "$wanted" >"$conf"
  say "wrote $conf (nofile $nofile, nproc $nproc)"
  # A running service read the old settings at its start.
  restart=1
fi

ping() { curl -sf --max-time 2 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1; }
service_pids() { pgrep -f "^podman system service --time=0 unix://$sock\$" || true; }

if [ -n "${restart:-}" ] && [ -n "$(service_pids)" ]; then
  say "restarting the Podman service for the new settings"
  for pid in $(service_pids); do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 40); do [ -z "$(service_pids)" ] && break; sleep 0.25; done
fi
if ping; then
  say "Podman answers on $sock"
  echo "unix://$sock"
  exit 0
fi
if [ -z "$(service_pids)" ]; then
  mkdir -p "$(dirname "$sock")"
  rm -f "$sock"  # a stale socket left by a killed service
  say "starting podman system service (log: $log)"
  # Started in the socket's folder, not in the repository: every conmon it spawns inherits the
  # working folder and creates an empty file `oom` there on each out-of-memory kill.
  (cd "$(dirname "$sock")" && setsid nohup podman system service --time=0 "unix://$sock" \
    >"$log" 2>&1 </dev/null &)
fi
for _ in $(seq 1 120); do
  if ping; then
    say "Podman is up on $sock"
    echo "unix://$sock"
    exit 0
  fi
  sleep 0.5
done
say "the Podman service did not answer within 60 s; see $log:"
tail -20 "$log" >&2 || true
exit 1
