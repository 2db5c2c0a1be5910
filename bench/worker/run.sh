#!/usr/bin/env bash
# Queue benchmarks (issue: job-queue worker backend) on PostgreSQL, side by side in one run:
#   1. claim overhead: one claim_job call (UPDATE ... FOR UPDATE SKIP LOCKED ... RETURNING) with
#      1, 2 and 4 connections claiming 2,000 queued jobs at once: median and p95 (bench_store).
#   2. throughput for trivial jobs (`true`): JOBS jobs through 1, 2 and 4 `runner worker`
#      processes (concurrency 1 each), timed from the workers' start until every job is final,
#      against the same number of plain `docker run --rm` loops sharing JOBS runs.
# Usage: bench/worker/run.sh      Env: JOBS (default 40), RUNNER_BENCH_POSTGRES_URL
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
RUNNER=$root/build/bin/runner
BENCH=$root/build/bin/bench_store
JOBS=${JOBS:-40}
IMAGE=runner-busybox:latest
DOCKER=${DOCKER:-/usr/bin/docker}
cmake --build build --target runner_cli bench_store >/dev/null
base_url=${RUNNER_BENCH_POSTGRES_URL:-$(scripts/start-postgres.sh 2>/dev/null)}
work=$(mktemp -d)
schema=bench_$$
trap 'rm -rf "$work"; psql -q "$base_url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT
url="$base_url?options=-csearch_path%3D$schema"
reset() {
  psql -q "$base_url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" -c "CREATE SCHEMA $schema" >/dev/null 2>&1
}
now() { date +%s.%N; }
cat > "$work/true.json" <<JSON
{"id": "bench.true", "image": "$IMAGE", "command": ["true"]}
JSON

echo "## Machine"
echo "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(uname -sr); $($DOCKER version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null); $(psql "$base_url" -Atc 'show server_version' 2>/dev/null | sed 's/^/PostgreSQL /')"
echo
echo "## 1. Claim overhead (one claim_job call, PostgreSQL on this machine)"
for k in 1 2 4; do
  reset
  "$BENCH" claim "$url" 2000 "$k"
done
echo
echo "## 2. Trivial jobs: $JOBS jobs, runner workers vs plain docker run loops"
echo
echo "| parallel | runner worker(s): s | jobs/min | docker run loop(s): s | jobs/min | runner / docker time |"
echo "|---|---|---|---|---|---|"
claims=()
for k in 1 2 4; do
  reset
  for i in $(seq 1 "$JOBS"); do "$RUNNER" submit "$work/true.json" --store "$url" >/dev/null; done
  t0=$(now)
  pids=()
  for w in $(seq 1 "$k"); do
    "$RUNNER" worker --store "$url" --concurrency 1 --id "bench$w" >"$work/worker$w.log" 2>&1 &
    pids+=($!)
  done
  while [ "$(psql "$url" -Atc "select count(*) from jobs where status in ('success','error','terminated','cancelled','warning')")" -lt "$JOBS" ]; do
    sleep 0.05
  done
  t1=$(now)
  kill -TERM "${pids[@]}"; wait "${pids[@]}" || true
  failed=$(psql "$url" -Atc "select count(*) from jobs where status <> 'success'")
  [ "$failed" -eq 0 ] || { echo "runner: $failed job(s) did not succeed"; exit 1; }
  # Claim to container created: the job's "Claimed by worker" event (emitted as its thread starts,
  # right after the claim) to started_at (recorded when the engine answered the create).
  psql "$url" -Atc "select (started_at - time) / 1000.0 from jobs j join events e on e.job_id = j.id where e.message like 'Claimed by worker%'" >"$work/claim$k.txt"

  t2=$(now)
  per=$(( JOBS / k ))
  for w in $(seq 1 "$k"); do
    ( for i in $(seq 1 "$per"); do "$DOCKER" run --rm "$IMAGE" true >/dev/null; done ) &
  done
  wait
  t3=$(now)
  python3 - "$k" "$JOBS" "$t0" "$t1" "$t2" "$t3" "$per" <<'PY'
import sys
k, jobs, t0, t1, t2, t3, per = int(sys.argv[1]), int(sys.argv[2]), *map(float, sys.argv[3:7]), int(sys.argv[7])
r, d = t1 - t0, t3 - t2
dj = per * k
print(f"| {k} | {r:.1f} | {jobs / r * 60:.0f} | {d:.1f} | {dj / d * 60:.0f} | {(r / jobs) / (d / dj):.2f}x |")
PY
  claims+=("$k: $(sort -n "$work/claim$k.txt" | awk '{a[NR]=$1} END {printf "median %.1f ms, p95 %.1f ms (n=%d)", a[int((NR+1)/2)], a[int(NR*0.95+0.5)], NR}')")
done
echo
echo "Claim to container created (ms), per number of workers:"
for c in "${claims[@]}"; do echo "- $c"; done
