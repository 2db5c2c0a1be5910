#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock (or $DOCKER_HOST's socket).
# Starts Debian's dockerd in the background when none answers, clearing a stale pid file left by
# a killed daemon (dockerd refuses to start while it exists), and waits for /_ping.
set -euo pipefail

sock=/var/run/docker.sock
case "${DOCKER_HOST:-}" in unix://*) sock=${DOCKER_HOST#unix://} ;; esac

ping() { curl -sf --max-time 2 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1; }

if ping; then
  echo "start-docker: engine answers on $sock"
  exit 0
fi
if [ "$sock" != /var/run/docker.sock ]; then
  echo "start-docker: no engine answers on $sock (DOCKER_HOST); not starting one there" >&2
  exit 1
fi
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
for stale in /var/run/docker/containerd/containerd.pid; do
  if [ -f "$stale" ] && ! kill -0 "$(cat "$stale")" 2>/dev/null; then rm -f "$stale"; fi
done
if ! pgrep -x dockerd >/dev/null; then
  echo "start-docker: starting dockerd (log: /var/log/runner-dockerd.log)"
  setsid nohup dockerd >/var/log/runner-dockerd.log 2>&1 </dev/null &
fi
for _ in $(seq 1 120); do
  if ping; then
    echo "start-docker: engine is up"
    exit 0
  fi
  sleep 0.5
done
echo "start-docker: dockerd did not answer within 60 s; see /var/log/runner-dockerd.log:" >&2
tail -20 /var/log/runner-dockerd.log >&2 || true
exit 1
