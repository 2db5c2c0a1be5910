#!/usr/bin/env bash
# Kestra protocol parser benchmark: builds bench_kestra (-O2 -DNDEBUG as the project's release
# build, no -march, one compiler job) against the logging sources it needs and runs it. With
# --write also stores the output, with the machine, in RESULTS.md next to this script.
#
# --baseline DIR: before and after in one run. DIR is another checkout (e.g. a `git worktree` of
# the commit before a change); the same bench_kestra.cpp is built against both trees and run
# REPEAT times each (default 5), alternating which goes first, and a table of medians with the
# range (min-max) is printed. --engine adds the issue's end-to-end figure: `runner run` of
# 2,000,000 lines, one in ten a protocol line, against the same bytes as plain lines, with both
# trees' runner binaries (DIR/build/bin/runner and build/bin/runner, built beforehand), RUNS times
# each (default 7), interleaved; the events go to a tmpfs file, the terminal is quiet.
# The machine is shared: run it under `flock /work/wt/bench.lock` when other benchmarks may run.
#
# Usage: bench/kestra/run.sh [--write] [--baseline DIR [--engine]]
# Env:   BENCH_WORK (default /tmp/runner-bench-kestra), CXX, REPEAT, RUNS
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${BENCH_WORK:-/tmp/runner-bench-kestra}"
cxx="${CXX:-g++}"
write=0 baseline="" engine=0
while (($#)); do
  case "$1" in
    --write) write=1 ;;
    --baseline) baseline="$(cd "$2" && pwd)"; shift ;;
    --engine) engine=1 ;;
    *) echo "usage: $0 [--write] [--baseline DIR [--engine]]" >&2; exit 64 ;;
  esac
  shift
done
mkdir -p "$work"

build() {  # TREE OUTPUT: bench_kestra.cpp of this tree, the parser of TREE
  local tree=$1
  "$cxx" -O2 -DNDEBUG -std=c++20 -I"$tree" "$here/bench_kestra.cpp" "$tree"/logging/kestra_*.cpp \
    "$tree/logging/line_splitter.cpp" "$(if [ -f "$tree/common/utf8.cpp" ]; then echo "$tree/common/utf8.cpp"; else echo "$tree/logging/utf8.cpp"; fi)" "$tree/logging/event.cpp" \
    "$tree/logging/json_text.cpp" -lfmt -lsimdjson -o "$2"
}
build "$root" "$work/bench_kestra"
machine="Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(uname -sr); $("$cxx" --version | head -1); -O2, one core."

if [[ -z "$baseline" ]]; then
  out="$work/results.md"
  { echo "$machine"; echo; "$work/bench_kestra"; } | tee "$out"
  if ((write)); then
    {
      echo "# Kestra protocol parser benchmark"
      echo
      echo "Produced by \`bench/kestra/run.sh --write\` (see bench_kestra.cpp for what each row measures)."
      echo "MB = 10^6 bytes of input including newlines; best of three passes each. The machine is"
      echo "shared with other benchmarks, so single rows vary by up to about a third between runs."
      echo "For the issue's 166 MB run (2,000,000 lines, 200,000 of them protocol), the parser adds"
      echo "200,000 x the mixed per-line cost below (tens of milliseconds) to the plain run."
      echo
      cat "$out"
    } >"$here/RESULTS.md"
  fi
  exit 0
fi

# --- before / after ----------------------------------------------------------------------------
build "$baseline" "$work/bench_kestra_baseline"
before_rev="$(git -C "$baseline" rev-parse --short HEAD 2>/dev/null || echo "$baseline")"
after_rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "$root")"
repeat="${REPEAT:-5}"
: >"$work/parser.tsv"
for ((round = 1; round <= repeat; round++)); do
  order=(before after)
  ((round % 2 == 0)) && order=(after before)
  for side in "${order[@]}"; do
    binary="$work/bench_kestra"
    [[ "$side" == before ]] && binary="$work/bench_kestra_baseline"
    taskset -c 1 "$binary" | grep '^result ' | sed "s/^result /$side /" >>"$work/parser.tsv"
    echo "parser round $round/$repeat: $side done" >&2
  done
done

runs="${RUNS:-7}"
: >"$work/engine.tsv"
if ((engine)); then
  image=runner-busybox:latest
  # shellcheck source=workload.sh
  . "$here/workload.sh"
  kestra_component "::" "$image" >"$work/kestra.json"
  kestra_component "xx" "$image" >"$work/kestra-plain.json"
  events_dir=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
  trap 'rm -rf "$events_dir"' EXIT
  for side in before after; do
    runner="$root/build/bin/runner"
    [[ "$side" == before ]] && runner="$baseline/build/bin/runner"
    [[ -x "$runner" ]] || { echo "no runner binary at $runner: build that tree first" >&2; exit 1; }
  done
  export RUNNER_STORE=none  # the store's cost is bench/store's to measure
  for ((round = 0; round <= runs; round++)); do  # round 0 warms up and is not counted
    order=(before after)
    ((round % 2 == 0)) && order=(after before)
    for side in "${order[@]}"; do
      runner="$root/build/bin/runner"
      [[ "$side" == before ]] && runner="$baseline/build/bin/runner"
      for load in plain protocol; do
        file="$work/kestra.json"
        [[ "$load" == plain ]] && file="$work/kestra-plain.json"
        start=$(date +%s%N)
        "$runner" run "$file" --quiet --events "$events_dir/events.jsonl" >/dev/null 2>&1
        end=$(date +%s%N)
        ((round > 0)) && echo "$side $load $(((end - start) / 1000000))" >>"$work/engine.tsv"
      done
    done
    echo "engine round $round/$runs done" >&2
  done
fi

python3 - "$work/parser.tsv" "$work/engine.tsv" "$before_rev" "$after_rev" "$machine" <<'PY'
import statistics, sys
parser_rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
engine_rows = [line.split() for line in open(sys.argv[2]) if line.strip()]
before, after, machine = sys.argv[3], sys.argv[4], sys.argv[5]
print(machine)
print()
def cell(values, digits):
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"
series = {}
for side, *fields in parser_rows:
    for f in fields:
        k, v = f.split("=")
        series.setdefault((side, k), []).append(float(v))
labels = [("mixed_us", "extra cost per protocol line, 1 in 10 (logs, outputs, metrics), us", 3),
          ("logs_us", "extra cost per logs line, us", 3),
          ("outputs_us", "extra cost per outputs line, us", 3),
          ("metrics_us", "extra cost per metrics line, us", 3),
          ("split_ratio", "splitter + parser, 1 in 10 protocol / plain", 2)]
n = len(series.get(("after", "mixed_us"), []))
print(f"Parser alone (bench_kestra, one core, best of three passes per run; median and range of {n} runs each, alternating):")
print()
print(f"| measure | before ({before}) | after ({after}) | after / before |")
print("|---|---:|---:|---:|")
for key, label, digits in labels:
    b, a = series[("before", key)], series[("after", key)]
    print(f"| {label} | {cell(b, digits)} | {cell(a, digits)} | {statistics.median(a) / statistics.median(b):.2f} |")
if engine_rows:
    times = {}
    for side, load, ms in engine_rows:
        times.setdefault((side, load), []).append(int(ms))
    runs = len(times[("after", "plain")])
    print()
    print(f"`runner run` of 2,000,000 lines (166 MB), events to a tmpfs file, terminal quiet; median and range of {runs} runs each, interleaved:")
    print()
    print(f"| tree | plain lines, ms | 1 in 10 protocol lines, ms | protocol / plain (medians) |")
    print("|---|---:|---:|---:|")
    for side, rev in (("before", before), ("after", after)):
        p, k = times[(side, "plain")], times[(side, "protocol")]
        print(f"| {side} ({rev}) | {cell(p, 0)} | {cell(k, 0)} | **{statistics.median(k) / statistics.median(p):.2f}x** |")
PY
