#!/usr/bin/env bash
# Reading speed of stored events (issue 14: compression must not slow readers): for each runner
# binary given, a fresh store (RUNNER_HOME on the real disk) gets one job of the `yes` flood
# (2,000,000 lines) and one of the realistic log (bench/loggen.py, 166 MB); then, per job, the
# median of RUNS runs of `runner logs JOB` (terminal text to a pipe), `runner logs JOB --json`
# and `runner ship` to the file exporter (a fresh offset each run). Binaries alternate per run.
# Usage: bench/store/read_speed.sh OLD_RUNNER NEW_RUNNER     Env: RUNS (default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
IMAGE=runner-busybox:latest
logs=${BENCH_LOGS:-/var/tmp/runner-bench-logs}
mkdir -p "$logs/in/files"
[ -s "$logs/in/files/real166.log" ] || python3 bench/loggen.py 166000000 > "$logs/in/files/real166.log"
work=$(mktemp -d -p /var/tmp runner-read.XXXXXX)
trap 'rm -rf "$work"' EXIT
line=$(printf 'x%.0s' $(seq 1 82))
printf '{"id":"bench.flood","image":"%s","command":["sh","-c","yes %s | head -n 2000000"]}\n' "$IMAGE" "$line" > "$work/flood.json"
printf '{"id":"bench.real","image":"%s","command":["sh","-c","cat /data/in/files/real166.log"]}\n' "$IMAGE" > "$work/real.json"
names=()
for bin in "$@"; do
  n=$(basename "$bin")-${#names[@]}; names+=("$n")
  mkdir -p "$work/$n"
  RUNNER_HOME=$work/$n "$bin" run "$work/flood.json" > /dev/null 2>&1
  RUNNER_HOME=$work/$n "$bin" run "$work/real.json" --data-dir "$logs" > /dev/null 2>&1
done
secs() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc; }
declare -A t
for r in $(seq 1 "$RUNS"); do
  i=0
  for bin in "$@"; do
    n=${names[$i]}; i=$((i+1))
    export RUNNER_HOME=$work/$n
    for job in $("$bin" jobs --json | python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    print(d["component_id"] + "=" + d.get("job_id", d.get("id", "")))  # job_id since issue 15'); do
      c=${job%%=*}; id=${job#*=}
      t[$n,$c,logs]+="$(secs sh -c "'$bin' logs $id | cat > /dev/null") "
      t[$n,$c,json]+="$(secs sh -c "'$bin' logs $id --json > /dev/null") "
    done
    rm -rf "$work/ship-out"; mkdir -p "$work/ship-out"
    printf 'logExporters:\n  - {id: f, type: file, path: %s}\nlookbackPeriod: P7D\nsettlePeriod: PT0S\nlogLevelFilter: DEBUG\noffsetKey: r%s\n' "$work/ship-out" "$r" > "$work/ship.yaml"
    t[$n,all,ship]+="$(secs sh -c "'$bin' ship --config '$work/ship.yaml' > /dev/null") "
  done
done
echo "| binary | job | \`runner logs\` (to a pipe) | \`runner logs --json\` | store size |"
echo "|---|---|---:|---:|---:|"
med() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for n in "${names[@]}"; do
  for c in bench.flood bench.real; do
    echo "| $n | $c | $(echo ${t[$n,$c,logs]} | med) s | $(echo ${t[$n,$c,json]} | med) s | $(du -b "$work/$n/runner.db" | cut -f1) B |"
  done
  echo "| $n | \`runner ship\` both jobs (file exporter) | $(echo ${t[$n,all,ship]} | med) s | | |"
done
echo; echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
