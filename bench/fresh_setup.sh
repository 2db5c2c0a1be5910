#!/usr/bin/env bash
# Times `scripts/setup.sh` on a really fresh Debian 12 (issue 15, "The first command"): a
# bookworm root file system made with mmdebstrap --variant=debootstrap (what `debootstrap
# bookworm` installs: required + important packages, no compiler, no Docker), imported as the
# image localhost/fresh-bookworm, and a privileged container of it running setup.sh unattended
# on a clean `git clone` of this checkout's HEAD. setup.sh starts its own dockerd (and
# PostgreSQL) inside: Docker-in-Docker, as scripts/start-dind.sh runs it. The container runs on
# Podman, not Docker: Docker's --privileged asks for capabilities this sandboxed machine lacks
# ("unable to apply caps"); Podman's gives the ones it has (start-dind.sh says the same).
# /var/lib/docker and /var/lib/containers of the container are folders on the host disk, as on a
# real machine (overlay on overlay would not work).
# Prints, and writes to $FRESH_DIR/report.txt: setup.sh's exit code; wall time of the whole and
# of each part (install, engine, PostgreSQL, images, build, example), taken from the time stamps
# of its output lines; user+sys CPU of setup.sh's process tree (bash `times`) and of the whole
# container (its cpuacct cgroup, dockerd and PostgreSQL included); the machine's cores and load
# average before, during (mean of 10-s samples) and after. Nothing of the host's services is
# changed; the container is removed at the end (kept after a failure, for a look), the root file
# system and image are kept for the next run (FRESH_REBUILD=1 makes them anew). Needs root, podman and mmdebstrap
# (scripts/install-deps.sh) and the network to deb.debian.org and npm's registry.
#   FRESH_DIR     working folder (default /var/tmp/runner-fresh), outside any repository
#   FRESH_ROOTFS  the root file system folder (default $FRESH_DIR/rootfs)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
dir=${FRESH_DIR:-/var/tmp/runner-fresh}
rootfs=${FRESH_ROOTFS:-$dir/rootfs}
image=localhost/fresh-bookworm:latest
name=runner-fresh-setup
say() { echo "fresh_setup: $*" >&2; }
mkdir -p "$dir"

if [ "${FRESH_REBUILD:-0}" = 1 ]; then
  rm -rf "$rootfs"
  podman rmi -f "$image" >/dev/null 2>&1 || true
fi
if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
  say "making a Debian 12 root file system in $rootfs (mmdebstrap --variant=debootstrap)"
  rm -rf "$rootfs"
  mmdebstrap --quiet --variant=debootstrap --include=ca-certificates bookworm "$rootfs" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
fi
if ! podman image exists "$image"; then
  say "importing $rootfs as $image"
  tar -C "$rootfs" -c . | podman import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$image" >/dev/null
fi

# A clean clone of HEAD (what a new user gets), and empty engine folders.
podman rm -f "$name" >/dev/null 2>&1 || true
rm -rf "$dir/repo" "$dir/docker" "$dir/containers"
git clone --quiet "$repo" "$dir/repo"
mkdir -p "$dir/docker" "$dir/containers"

# Inside: setup.sh under bash's `times` (user+sys of the waited-for tree), then wait to be
# removed, so that the container's cgroup can still be read.
inner='cd /root/runner; scripts/setup.sh; rc=$?; times; echo "fresh-setup: exit $rc"; exec sleep 3600'
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
up_start=$(cut -d' ' -f1 /proc/uptime)
podman run -d --privileged --name "$name" --hostname fresh \
  -v "$dir/repo:/root/runner" -v "$dir/docker:/var/lib/docker" \
  -v "$dir/containers:/var/lib/containers" "$image" bash -c "$inner" >/dev/null
cid=$(podman inspect -f '{{.Id}}' "$name")
podman logs -f -t "$name" >"$dir/setup.log" 2>&1 &
logger=$!
samples=()
until grep -q '^[^ ]* fresh-setup: exit' "$dir/setup.log" 2>/dev/null; do
  if [ "$(podman inspect -f '{{.State.Running}}' "$name")" != true ]; then
    say "the container stopped before setup.sh finished"
    break
  fi
  samples+=("$(cut -d' ' -f1 /proc/loadavg)")
  sleep 10
done
wall=$(($(date +%s) - start))
# The kernel's own clock beside the wall clock: on a shared VM that is paused now and then they
# part, and the wall clock then counts time in which nothing here ran.
up=$(awk -v a="$up_start" '{ printf "%d", $1 - a }' /proc/uptime)
cg=$({ find /sys/fs/cgroup/cpuacct /sys/fs/cgroup -maxdepth 3 -type d -name "*$cid*" 2>/dev/null ||
  true; } | head -1)
cpu_ns=$(cat "$cg/cpuacct.usage" 2>/dev/null ||
  awk '/usage_usec/ { print $2 * 1000 }' "$cg/cpu.stat" 2>/dev/null || echo 0)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
kill "$logger" 2>/dev/null || true
if grep -q 'fresh-setup: exit 0' "$dir/setup.log"; then
  podman rm -f "$name" >/dev/null 2>&1 || true
else
  say "kept the container for a look: podman exec -it $name bash (the next run removes it)"
fi

# Parts, from the first line of each part to the first line of the next (podman's time stamps).
report=$(
  python3 - "$dir/setup.log" <<'EOF'
import datetime, re, sys
marks = [("install (apt-get)", "install-deps:"), ("engine (dockerd)", "start-docker:"),
         ("PostgreSQL", "start-postgres:"), ("images", "build-images:"),
         ("build (runner only)", "== building"), ("example", "== runner run")]
# setup.sh's own "== <step> took N s" lines are printed as they are.
lines = []
for raw in open(sys.argv[1], errors="replace"):
    m = re.match(r"(\S+) (.*)", raw.rstrip("\n"))
    if not m: continue
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", m.group(1)).replace("Z", "+00:00")
    try: t = datetime.datetime.fromisoformat(stamp).timestamp()
    except ValueError: continue
    lines.append((t, m.group(2)))
if not lines: sys.exit("no time-stamped lines in the log")
starts = []
for name, prefix in marks:
    t = next((t for t, text in lines if text.startswith(prefix)), None)
    if t is not None: starts.append((t, name))
end = next((t for t, text in lines if text.startswith("fresh-setup: exit")), lines[-1][0])
starts.sort()
first = lines[0][0]
for i, (t, name) in enumerate(starts):
    until = starts[i + 1][0] if i + 1 < len(starts) else end
    print(f"  {name:22s} {until - t:7.1f} s")
print(f"  {'whole (first line to exit)':22s} {end - first:7.1f} s")
for t, text in lines:
    if re.match(r"\d+m[\d.]+s \d+m[\d.]+s", text): print("  times:", text)
    if re.match(r"== .* (took|in) \d+ s$", text): print("  setup.sh:", text)
EOF
)
mean_load=$(printf '%s\n' "${samples[@]:-0}" | awk '{ s += $1; n++ } END { printf "%.2f", s / n }')
{
  echo "fresh_setup: $(grep -o 'fresh-setup: exit [0-9]*' "$dir/setup.log" || echo 'no exit line')"
  echo "  commit $(git -C "$dir/repo" rev-parse --short HEAD), $(nproc) cores, $(date -u +%FT%TZ)"
  echo "  wall $wall s ($((wall / 60)) min $((wall % 60)) s; kernel uptime clock $up s)," \
    "container CPU (cgroup) $((cpu_ns / 1000000000)) s"
  echo "$report"
  echo "  load average before $load_before, mean during $mean_load (${#samples[@]} samples), after $load_after"
  echo "  log: $dir/setup.log"
} | tee "$dir/report.txt"
grep -q 'fresh-setup: exit 0' "$dir/setup.log"
