#!/usr/bin/env bash
# Engine benchmarks for `runner run`, side by side with the docker CLI in one run, on the same
# engine and image (issue: runner run, "Speed"):
#   1. start-to-exit of a trivial container: runner vs `docker run --rm` (hyperfine)
#   2. the store rows (issue 14): the DEFAULT command line, `runner run X.json` with the default
#      SQLite store in a RUNNER_HOME on the real disk and the terminal output to a pipe, side by
#      side with `--store none` and `docker run --rm --log-driver none` in paired rounds
#      (bench/paired.py: order rotated each round, medians, wall, CPU, peak RSS, store growth),
#      for the `yes` flood (2,000,000 lines of 83 bytes, 166 MB) and a realistic log
#      (bench/loggen.py: timestamps, increasing ids, words, long JSON lines), at 166 MB and 1.66 GB
#   3. 2,000,000 lines (166 MB): runner (events to a JSON Lines file, quiet) vs `docker run --rm`
#      (json-file log driver) vs `docker run --rm --log-driver none` (issue 2's rows)
#   4. the same 166 MB run with 1,000 secrets configured vs none (scrubber cost on the stream)
#   5. 2,000,000 lines with one in ten a Kestra protocol line vs the same bytes as plain text
# Prints a Markdown report; copy it into docs/BENCHMARKS.md. Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNNER=${RUNNER:-build/bin/runner}
DOCKER=${DOCKER:-/usr/bin/docker}  # Debian's docker.io client, what a new machine has
IMAGE=runner-busybox:latest
RUNS_START=${RUNS_START:-30}
RUNS_BIG=${RUNS_BIG:-5}
RUNS_HUGE=${RUNS_HUGE:-3}  # rounds at 1.66 GB
# The default store: $RUNNER_HOME/runner.db, RUNNER_HOME on the real disk (not tmpfs).
unset RUNNER_STORE
export RUNNER_HOME=$(mktemp -d -p /var/tmp runner-bench-home.XXXXXX)
work=$(mktemp -d)
# Events files go to a tmpfs when there is one: the 300 MB of JSON Lines per run would otherwise
# measure this VM's disk write-back more than runner.
events_dir=$(mktemp -d -p "${EVENTS_DIR:-/dev/shm}" 2>/dev/null || mktemp -d)
trap 'rm -rf "$work" "$events_dir" "$RUNNER_HOME"' EXIT
# The realistic log, generated once (deterministic) and cached: the container `cat`s it from
# its /data folder (--data-dir), so the generator's speed is not measured.
logs=${BENCH_LOGS:-/var/tmp/runner-bench-logs}
mkdir -p "$logs/in/files"
[ -s "$logs/in/files/real166.log" ] || python3 bench/loggen.py 166000000 > "$logs/in/files/real166.log"

line=$(printf 'x%.0s' $(seq 1 82))  # 82 bytes + newline = 83 bytes a line
cat > "$work/trivial.json" <<JSON
{"id": "bench.trivial", "image": "$IMAGE", "command": ["true"]}
JSON
big() {  # $1 = lines
  cat <<JSON
{"id": "bench.big", "image": "$IMAGE", "command": ["sh", "-c", "yes $line | head -n $1"],
 "limits": {"timeout": 600}}
JSON
}
big 2000000 > "$work/big.json"
# The same component with 1,000 random secrets (16-40 characters) in its parameters.
python3 - "$work/big.json" "$work/big-secrets.json" <<'PY'
import json, random, string, sys
doc = json.load(open(sys.argv[1]))
rng = random.Random(42)
alphabet = string.ascii_letters + string.digits + "!@#%^&*-_+="
doc["parameters"] = {f"#secret{i}": "".join(rng.choice(alphabet) for _ in range(rng.randint(16, 40)))
                     for i in range(1000)}
json.dump(doc, open(sys.argv[2], "w"))
PY
big 20000000 > "$work/big10.json"
# Kestra: 1 in 10 protocol lines, and the same bytes as plain lines (bench/kestra/workload.sh).
. bench/kestra/workload.sh
kestra_component "::" "$IMAGE" > "$work/kestra.json"
kestra_component "xx" "$IMAGE" > "$work/kestra-plain.json"

echo "## Machine"
echo
echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "- Engine: $(curl -s --unix-socket /var/run/docker.sock http://localhost/version | python3 -c 'import json,sys; v=json.load(sys.stdin); print("Docker", v["Version"], "API", v["ApiVersion"])')"
echo "- docker CLI: $($DOCKER --version)"
echo "- runner: $($RUNNER --version) ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
echo "- Date: $(date -u +%Y-%m-%dT%H:%MZ)"
echo "- Events files in: $events_dir"
echo

# --- 2. the store rows: the default command line vs --store none vs docker --log-driver none ---
flood_cmd() { echo "yes $line | head -n $1"; }
real_cmd() { echo "for i in \$(seq 1 $1); do cat /data/in/files/real166.log; done"; }
component() {  # $1 = id, $2 = shell command
  python3 -c 'import json,sys; print(json.dumps({"id": sys.argv[1], "image": sys.argv[2], "command": ["sh", "-c", sys.argv[3]], "limits": {"timeout": 1800}}))' "$1" "$IMAGE" "$2"
}
paired_set() {  # $1 = title, $2 = rounds, $3 = shell command in the container, $4 = data dir or ""
  local spec=$work/paired.json json=$work/paired-component.json data=() vol=()
  component bench.store "$3" > "$json"
  if [ -n "$4" ]; then data=(--data-dir "$4"); vol=(-v "$4:/data"); fi
  python3 - "$spec" "$1" "$2" "$RUNNER" "$json" "$RUNNER_HOME/runner.db" "$DOCKER" "$IMAGE" "$3" "${data[*]:-}" "${vol[*]:-}" <<'PY2'
import json, sys
spec, title, rounds, runner, comp, db, docker, image, cmd, data, vol = sys.argv[1:12]
data = data.split() if data else []
vol = vol.split() if vol else []
rows = [
  {"name": "`runner run X.json` (default store, terminal to a pipe)", "argv": [runner, "run", comp] + data, "store": db},
  {"name": "`runner run X.json --store none`", "argv": [runner, "run", comp, "--store", "none"] + data},
  {"name": "`docker run --rm --log-driver none`", "argv": [docker, "run", "--rm", "--log-driver", "none"] + vol + [image, "sh", "-c", cmd]},
]
json.dump({"title": title, "rounds": int(rounds), "rows": rows}, open(spec, "w"))
PY2
  echo "### $1"
  echo
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  python3 bench/paired.py "$spec"
  echo
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); store now $(du -sh "$RUNNER_HOME" | cut -f1)"
  echo
}
echo "## The default command line (issue 14): default store, terminal to a pipe"
echo
paired_set "yes flood, 2,000,000 lines (166 MB)" "$RUNS_BIG" "$(flood_cmd 2000000)" ""
paired_set "realistic log (bench/loggen.py), 166 MB" "$RUNS_BIG" "$(real_cmd 1)" "$logs"
paired_set "yes flood, 20,000,000 lines (1.66 GB)" "$RUNS_HUGE" "$(flood_cmd 20000000)" ""
paired_set "realistic log, 1.66 GB (the 166 MB log 10 times)" "$RUNS_HUGE" "$(real_cmd 10)" "$logs"
rm -f "$RUNNER_HOME"/runner.db*
[ -n "${ONLY_STORE:-}" ] && exit 0

hyperfine --style none --warmup 3 --runs "$RUNS_START" --export-json "$work/start.json" \
  -n "runner run" "$RUNNER run $work/trivial.json --quiet" \
  -n "docker run --rm" "$DOCKER run --rm $IMAGE true" >/dev/null 2>&1

hyperfine --style none --warmup 1 --runs "$RUNS_BIG" --export-json "$work/big.json.out" \
  -n "runner run (events to file)" "$RUNNER run $work/big.json --quiet --events $events_dir/events.jsonl" \
  -n "docker run --rm" "$DOCKER run --rm $IMAGE sh -c 'yes $line | head -n 2000000' >/dev/null" \
  -n "docker run --rm --log-driver none" "$DOCKER run --rm --log-driver none $IMAGE sh -c 'yes $line | head -n 2000000' >/dev/null" \
  >/dev/null 2>&1
events_lines=$(wc -l < "$events_dir/events.jsonl")

hyperfine --style none --warmup 1 --runs "$RUNS_BIG" --export-json "$work/secrets.json.out" \
  -n "runner run, no secrets" "$RUNNER run $work/big.json --quiet --events $events_dir/events.jsonl" \
  -n "runner run, 1,000 secrets" "$RUNNER run $work/big-secrets.json --quiet --events $events_dir/events.jsonl" \
  >/dev/null 2>&1

hyperfine --style none --warmup 1 --runs "$RUNS_BIG" --export-json "$work/kestra.json.out" \
  -n "runner run, plain lines" "$RUNNER run $work/kestra-plain.json --quiet --events $events_dir/events.jsonl" \
  -n "runner run, 1 in 10 protocol lines" "$RUNNER run $work/kestra.json --quiet --events $events_dir/events.jsonl" \
  >/dev/null 2>&1

rss() {  # peak RSS in KiB of one runner run of $1
  /usr/bin/time -f '%M' -o "$work/rss" "$RUNNER" run "$1" --quiet --events "$events_dir/rss-events.jsonl" >/dev/null 2>&1
  cat "$work/rss"
  rm -f "$events_dir/rss-events.jsonl"
}
rss1=$(rss "$work/big.json")
rss10=$(rss "$work/big10.json")

python3 - "$work/start.json" "$work/big.json.out" "$rss1" "$rss10" "$events_lines" "$work/secrets.json.out" "$work/kestra.json.out" <<'PY'
import json, sys
start = json.load(open(sys.argv[1]))["results"]
big = json.load(open(sys.argv[2]))["results"]
rss1, rss10, events_lines = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def row(r):
    return f"| {r['command']} | {r['median']*1000:.0f} ms | {r['mean']*1000:.0f} ± {r['stddev']*1000:.0f} ms | {r['min']*1000:.0f} ms | {len(r['times'])} |"
print("## Start to exit of a trivial container (`true`)\n")
print("| command | median | mean ± σ | min | runs |\n|---|---|---|---|---|")
for r in start: print(row(r))
ratio = start[0]["median"] / start[1]["median"]
print(f"\nrunner / docker CLI median: **{ratio:.2f}x** (target ≤ 0.90x)\n")
print("## 2,000,000 lines (166 MB) of stdout\n")
print("| command | median | mean ± σ | min | runs |\n|---|---|---|---|---|")
for r in big: print(row(r))
r_runner, r_docker, r_none = (b["median"] for b in big)
print(f"\nrunner events written: {events_lines} lines (2,000,000 stdout events + runner events + result)\n")
print(f"- plain `docker run` / runner: **{r_docker / r_runner:.2f}x** faster (target ≥ 2x)")
print(f"- runner / `docker run --log-driver none`: **{r_runner / r_none:.2f}x** (target ≤ 1.15x)")
print(f"- runner peak RSS: **{rss1/1024:.1f} MiB** at 166 MB, **{rss10/1024:.1f} MiB** at 1.66 GB (target < 32 MiB)")
sec = json.load(open(sys.argv[6]))["results"]
print("\n## The 166 MB run with 1,000 secrets configured\n")
print("| command | median | mean ± σ | min | runs |\n|---|---|---|---|---|")
for r in sec: print(row(r))
print(f"\n1,000 secrets / none: **{sec[1]['median'] / sec[0]['median']:.2f}x** (target ≤ 1.10x)")
kes = json.load(open(sys.argv[7]))["results"]
print("\n## 2,000,000 lines, one in ten a Kestra protocol line (log, output or metric)\n")
print("| command | median | mean ± σ | min | runs |\n|---|---|---|---|---|")
for r in kes: print(row(r))
print(f"\nprotocol / plain: **{kes[1]['median'] / kes[0]['median']:.2f}x** (target ≤ 1.10x)")
PY
