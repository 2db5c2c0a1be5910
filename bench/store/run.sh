#!/usr/bin/env bash
# Store and shipper benchmarks (issue: event store and log shipper). Needs scripts/setup.sh done,
# Docker running and, for the PostgreSQL rows, scripts/start-postgres.sh (its URL is taken from
# RUNNER_BENCH_POSTGRES_URL, else from running that script).
#   1. The 166 MB stdout run (2,000,000 lines) with no store, with the default SQLite store (on
#      the VM's disk and on tmpfs) and with PostgreSQL: hyperfine, side by side, same run.
#   2. Inserting alone through StoreSink: SQLite (disk, tmpfs) and PostgreSQL, events/s.
#   3. Shipping 1,000,000 stored events to the file exporter, events/s.
# Usage: bench/store/run.sh        Env: RUNS (default 5)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
RUNNER=${RUNNER:-$root/build/bin/runner}
BENCH=$root/build/bin/bench_store
RUNS=${RUNS:-5}
IMAGE=runner-busybox:latest
cmake --build build --target runner_cli bench_store >/dev/null
pg_url=${RUNNER_BENCH_POSTGRES_URL:-$(scripts/start-postgres.sh 2>/dev/null)}

work=$(mktemp -d -p /var/tmp)
shm=$(mktemp -d -p /dev/shm)
trap 'rm -rf "$work" "$shm"' EXIT
line=$(printf 'x%.0s' $(seq 1 82))
cat > "$work/big.json" <<JSON
{"id": "bench.big", "image": "$IMAGE", "command": ["sh", "-c", "yes $line | head -n 2000000"],
 "limits": {"timeout": 600}}
JSON
pg_reset="psql -q '$pg_url' -c 'TRUNCATE event_blocks, event_removals, jobs' >/dev/null"

echo "## Machine"
echo "$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(uname -sr); $(docker version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null)"
echo
echo "## 1. 2,000,000 lines (166 MB) of stdout: the default command line (terminal output to a pipe)"
# Creates the PostgreSQL schema before the first timed run.
"$RUNNER" run "$work/big.json" --store "$pg_url" -q --events /dev/null >/dev/null
# The default command line (no --quiet, no --events), output through a pipe; the default store's
# own row (RUNNER_HOME on the real disk, paired with --store none and docker) is in
# bench/run_engine_benchmarks.sh.
hyperfine --style basic --output=pipe --runs "$RUNS" --export-markdown "$work/run.md" \
  --prepare "rm -f $work/store.db* $shm/store.db* $shm/events.jsonl; $pg_reset" \
  -n "no store" "$RUNNER run $work/big.json --store none" \
  -n "sqlite store (disk)" "$RUNNER run $work/big.json --store sqlite:$work/store.db" \
  -n "sqlite store (tmpfs)" "$RUNNER run $work/big.json --store sqlite:$shm/store.db" \
  -n "postgresql store (local)" "$RUNNER run $work/big.json --store $pg_url" \
  >/dev/null
cat "$work/run.md"
echo
echo "## 2. Inserting alone (StoreSink, 83-byte stdout lines)"
rm -f "$work/ins.db"*
"$BENCH" insert "sqlite:$work/ins.db" 2000000
rm -f "$shm/ins.db"*
"$BENCH" insert "sqlite:$shm/ins.db" 2000000
rm -f "$shm/ins.db"*
"$BENCH" insert-small "sqlite:$shm/ins.db" 300000
eval "$pg_reset"
"$BENCH" insert "$pg_url" 2000000
eval "$pg_reset"
"$BENCH" insert-small "$pg_url" 300000
echo
echo "## 3. Shipping 1,000,000 stored events to the file exporter (batchSize 1000)"
rm -f "$shm/ship.db"*
"$BENCH" insert "sqlite:$shm/ship.db" 1000000 >/dev/null
mkdir -p "$shm/shipped"
"$BENCH" ship "sqlite:$shm/ship.db" "$shm/shipped" 1000000
rm -rf "$shm/shipped"; mkdir -p "$shm/shipped"
eval "$pg_reset"
"$BENCH" insert "$pg_url" 1000000 >/dev/null
"$BENCH" ship "$pg_url" "$shm/shipped" 1000000
eval "$pg_reset"
echo
echo "## 4. runner ship's memory with a 1,000,000 and a 3,000,000-event backlog (file exporter)"
for n in 1000000 3000000; do
  rm -f "$shm/ship.db"*; rm -rf "$shm/shipped"; mkdir -p "$shm/shipped"
  "$BENCH" insert "sqlite:$shm/ship.db" "$n" >/dev/null
  cat > "$work/ship.yaml" <<YAML
logExporters:
  - {id: files, type: file, path: $shm/shipped}
lookbackPeriod: P7D
settlePeriod: PT0S
logLevelFilter: DEBUG
YAML
  /usr/bin/time -f "runner ship, $n events: %e s wall, peak RSS %M KiB" "$RUNNER" ship --config "$work/ship.yaml" --store "sqlite:$shm/ship.db" >/dev/null
done
