#!/usr/bin/env bash
# GELF server benchmark (issue "GELF endpoint", section Speed): builds the load generator, runner's
# GelfServer as a counting sink, the recvmmsg floor and the graygelf peer, then measures them side
# by side in one run, the sender pinned to CPU 0 and the receiver to CPU 1, all on 127.0.0.1:
#   1. UDP plain at full rate: ours, graygelf, recvmmsg floor (received msg/s, % lost)
#   2. UDP zlib at full rate: ours, graygelf
#   3. UDP plain at a steady 100,000/s and 200,000/s for 10 s: ours, graygelf (% lost)
#   4. TCP at full rate: ours (one connection, and four)
#   5. HTTP keep-alive: ours (requests/s; one connection waiting for each 202, eight such
#      connections, and four pipelined connections with 16 requests in flight)
#   6. the CPU cost per message of the decoding stages alone (gelf_decode_cost, no sockets)
# and prints a markdown table with the machine and the issue's targets. With --write it also
# replaces the generated part of RESULTS.md next to this script (the hand-written analysis there
# is kept). With PERF=1 it records gelf_sink with `perf` during the UDP plain and zlib runs and
# prints the top symbols.
# Every send is bounded in count and time; a full run takes about 4 minutes.
#
# --baseline DIR: before and after in one run instead. DIR is another checkout (e.g. a
# `git worktree` of the commit before a change); the same benchmark programs are built against
# its GELF library too, and runner's rows (UDP plain and zlib at full rate next to the recvmmsg
# floor, TCP on 1 and 4 connections, HTTP on 1 connection and pipelined, and the decoding cost
# per message) run REPEAT times (default 3) for each tree, alternating which goes first. Prints a
# table of medians with their range (min-max). About 4 minutes at REPEAT=3.
# The machine is shared: run it under `flock /work/wt/bench.lock` when other benchmarks may run.
#
# Usage: bench/gelf/run.sh [--write] [--baseline DIR]
# Env:   BENCH_WORK (default /tmp/runner-bench-gelf), JOBS (compiler jobs, default 1),
#        PORT_BASE (default 14300), FULL_COUNT (default 2000000), ZLIB_COUNT (default 1000000),
#        STEADY_SECONDS (default 10), PERF, REPEAT (with --baseline)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${BENCH_WORK:-/tmp/runner-bench-gelf}"
build="$work/build"
npm_prefix="$work/npm"
port="${PORT_BASE:-14300}"
full_count="${FULL_COUNT:-2000000}"
steady_seconds="${STEADY_SECONDS:-10}"
write=0 baseline=""
while (($#)); do
  case "$1" in
    --write) write=1 ;;
    --baseline) baseline="$(cd "$2" && pwd)"; shift ;;
    *) echo "usage: $0 [--write] [--baseline DIR]" >&2; exit 64 ;;
  esac
  shift
done
mkdir -p "$work"

# --- build ---------------------------------------------------------------------------------------
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; exit 1; }
cmake --build "$build" -j"${JOBS:-1}" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
if [[ -n "$baseline" ]]; then
  cmake -S "$here" -B "$work/build-baseline" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRUNNER_ROOT="$baseline" >"$work/cmake-baseline.log" 2>&1 ||
    { cat "$work/cmake-baseline.log"; exit 1; }
  cmake --build "$work/build-baseline" -j"${JOBS:-1}" --target gelf_sink gelf_decode_cost \
    >"$work/build-baseline.log" 2>&1 || { tail -40 "$work/build-baseline.log"; exit 1; }
fi
if [[ ! -f "$npm_prefix/node_modules/graygelf/server.js" ]]; then
  npm install --prefix "$npm_prefix" --no-audit --no-fund graygelf@2.0.0 >"$work/npm.log" 2>&1 ||
    { cat "$work/npm.log"; exit 1; }
fi
graygelf_version="$(node -p "require('$npm_prefix/node_modules/graygelf/package.json').version")"

# --- one measurement -------------------------------------------------------------------------------
declare -A sent received rate load_rate kernel_drops granted per_cpu
udp_rcvbuf_errors() { awk '/^Udp:/ { if (++n == 2) print $6 }' /proc/net/snmp; }
field() {  # FILE KEY: the last KEY=value in FILE, 0 when absent
  local value
  value=$({ grep -o "$2=[^ ]*" "$1" || true; } | tail -1 | cut -d= -f2)
  echo "${value:-0}"
}

# run_case ID RECEIVER(ours|floor|graygelf) TRANSPORT LOAD-ARGS...
run_case() {
  local id=$1 receiver=$2 transport=$3
  shift 3
  port=$((port + 1))
  local sink_out="$work/$id.sink" load_out="$work/$id.load"
  # Removed first: the wait below must not see a "listening" line from an earlier run's file.
  rm -f "$work/$id.perf" "$work/$id.perf.txt" "$sink_out" "$load_out"
  local -a receive_cmd
  case "$receiver" in
    ours) receive_cmd=("$build/gelf_sink" --transport "$transport" --port "$port" --max-seconds 40) ;;
    baseline) receive_cmd=("$work/build-baseline/gelf_sink" --transport "$transport" --port "$port"
      --max-seconds 40) ;;
    floor) receive_cmd=("$build/recvmmsg_floor" --port "$port" --max-seconds 40) ;;
    graygelf) receive_cmd=(node "$here/graygelf_server.js" --port "$port" --max-seconds 40) ;;
  esac
  if [[ -n "${PERF:-}" && "$receiver" == ours && "$transport" == udp && "$id" == udp-*-full-* ]]; then
    receive_cmd=(perf record -q -o "$work/$id.perf" -- "${receive_cmd[@]}")
  fi
  GRAYGELF_DIR="$npm_prefix/node_modules/graygelf" timeout 60 taskset -c 1 "${receive_cmd[@]}" \
    >"$sink_out" 2>&1 &
  local receiver_pid=$!
  local tries=0
  until grep -q '^listening' "$sink_out" 2>/dev/null; do
    tries=$((tries + 1))
    if ((tries > 100)) || ! kill -0 "$receiver_pid" 2>/dev/null; then
      echo "receiver for $id did not start:" >&2
      cat "$sink_out" >&2
      exit 1
    fi
    sleep 0.1
  done
  local drops_before
  drops_before=$(udp_rcvbuf_errors)
  timeout 60 taskset -c 0 "$build/gelf_load" --transport "$transport" --port "$port" "$@" \
    >"$load_out" 2>&1 || { cat "$load_out" >&2; exit 1; }
  wait "$receiver_pid" || true
  sent[$id]=$(field "$load_out" sent)
  load_rate[$id]=$(field "$load_out" rate)
  received[$id]=$(field "$sink_out" unique)
  rate[$id]=$(field "$sink_out" rate)
  granted[$id]=$(field "$sink_out" rcvbuf)
  per_cpu[$id]=$(field "$sink_out" per_cpu_s)
  kernel_drops[$id]=$(($(udp_rcvbuf_errors) - drops_before))
  if [[ "$transport" == http ]]; then rate[$id]=${load_rate[$id]}; fi
  printf '%-28s sent %9s (%7s/s)  received %9s  %8s/s  kernel drops %9s  %8s/CPU-s\n' "$id" \
    "${sent[$id]}" "${load_rate[$id]}" "${received[$id]}" "${rate[$id]}" "${kernel_drops[$id]}" \
    "${per_cpu[$id]}" >&2
  if [[ -n "${PERF:-}" && -f "$work/$id.perf" ]]; then
    perf report -i "$work/$id.perf" --no-children --sort dso,sym --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -15 | cut -c1-150 >"$work/$id.perf.txt" || true
    echo "perf, top symbols of gelf_sink ($id):" >&2
    cat "$work/$id.perf.txt" >&2
  fi
}

# --- before / after (--baseline) -----------------------------------------------------------------
compare_gelf() {
  local repeat="${REPEAT:-3}" round side id test
  local tsv="$work/compare.tsv" costs="$work/compare-costs.tsv"
  : >"$tsv"
  : >"$costs"
  record() {  # SIDE TEST ID
    echo "$1 $2 ${rate[$3]} ${per_cpu[$3]} ${sent[$3]} ${received[$3]}" >>"$tsv"
  }
  for ((round = 1; round <= repeat; round++)); do
    local order=(baseline ours)
    ((round % 2 == 0)) && order=(ours baseline)
    run_case "floor-udp_plain-$round" floor udp "${full[@]}"
    record floor udp_plain "floor-udp_plain-$round"
    for side in "${order[@]}"; do
      for test in udp_plain udp_zlib tcp_1 tcp_4 http_1 http_pipelined; do
        id="$side-$test-$round"
        case "$test" in
          udp_plain) run_case "$id" "$side" udp "${full[@]}" ;;
          udp_zlib) run_case "$id" "$side" udp "${zlib_full[@]}" ;;
          tcp_1) run_case "$id" "$side" tcp "${full[@]}" ;;
          tcp_4) run_case "$id" "$side" tcp --connections 4 "${full[@]}" ;;
          http_1) run_case "$id" "$side" http --count 300000 --seconds 10 ;;
          http_pipelined) run_case "$id" "$side" http --connections 4 --window 16 --count 1000000 --seconds 10 ;;
        esac
        record "$side" "$test" "$id"
      done
      local cost_binary="$build/gelf_decode_cost"
      [[ "$side" == baseline ]] && cost_binary="$work/build-baseline/gelf_decode_cost"
      taskset -c 1 "$cost_binary" --count 300000 | awk -F'|' -v side="$side" '
        /JSON parse \+ GELF validation/ { gsub(/ /, "", $3); print side, "parse_ns", $3 }
        /GelfPayloadDecoder::decode/ { gsub(/ /, "", $3); print side, "inflate_ns", $3 }' >>"$costs"
    done
  done
  local before_rev after_rev
  before_rev="$(git -C "$baseline" rev-parse --short HEAD 2>/dev/null || echo "$baseline")"
  after_rev="$(git -C "$here/../.." rev-parse --short HEAD 2>/dev/null || echo after)"
  local cpu
  cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}; $(uname -sr); $(g++ --version | head -1). Load average before/after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg). Sender on CPU 0, receiver on CPU 1, 127.0.0.1; the same gelf_load, gelf_sink and gelf_decode_cost sources built against each tree's GELF library."
  echo
  python3 - "$tsv" "$costs" "$before_rev" "$after_rev" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
costs = [l.split() for l in open(sys.argv[2]) if l.strip()]
before, after = sys.argv[3], sys.argv[4]
def cell(v):
    return f"{statistics.median(v):,.0f} ({min(v):,.0f}-{max(v):,.0f})"
data = {}
for side, test, rate, per_cpu, sent, received in rows:
    d = data.setdefault((side, test), {"rate": [], "cpu": [], "lost": []})
    d["rate"].append(float(rate)); d["cpu"].append(float(per_cpu))
    s, r = float(sent), float(received)
    d["lost"].append(100 * (s - r) / s if s else 0)
n = len(data[("ours", "udp_plain")]["rate"])
print(f"Median and range (min-max) of {n} runs per tree, alternating which tree goes first. msg/s is the rate received (HTTP: requests answered 202 per second at the client); per CPU-s is messages per second of the receiver's CPU time; lost is (sent - received) / sent.")
print()
print(f"| test | before ({before}) msg/s | after ({after}) msg/s | after / before | before per CPU-s | after per CPU-s | lost before / after |")
print("|---|---:|---:|---:|---:|---:|---:|")
names = {"udp_plain": "UDP plain, full rate", "udp_zlib": "UDP zlib, full rate",
         "tcp_1": "TCP, 1 connection", "tcp_4": "TCP, 4 connections",
         "http_1": "HTTP keep-alive, 1 connection, waits for each 202",
         "http_pipelined": "HTTP keep-alive, 4 connections, 16 pipelined"}
floor = data.get(("floor", "udp_plain"))
if floor:
    print(f"| UDP plain, full rate: recvmmsg floor (same run) | {cell(floor['rate'])} | | | {cell(floor['cpu'])} | | {statistics.median(floor['lost']):.2f}% |")
for test, name in names.items():
    b, a = data[("baseline", test)], data[("ours", test)]
    ratio = statistics.median(a["rate"]) / statistics.median(b["rate"])
    print(f"| {name} | {cell(b['rate'])} | {cell(a['rate'])} | {ratio:.2f} | {cell(b['cpu'])} | {cell(a['cpu'])} | {statistics.median(b['lost']):.2f}% / {statistics.median(a['lost']):.2f}% |")
if floor:
    a = data[("ours", "udp_plain")]; b = data[("baseline", "udp_plain")]
    print()
    print(f"UDP plain / floor (medians): before {statistics.median(b['rate']) / statistics.median(floor['rate']):.2f}x, after {statistics.median(a['rate']) / statistics.median(floor['rate']):.2f}x on the wall-clock rate; per CPU-s before {statistics.median(b['cpu']) / statistics.median(floor['cpu']):.2f}x, after {statistics.median(a['cpu']) / statistics.median(floor['cpu']):.2f}x.")
cost = {}
for side, key, ns in costs:
    cost.setdefault((side, key), []).append(float(ns))
print()
print("CPU per message without sockets (gelf_decode_cost, best of three per run, the benchmark's 250-byte message):")
print()
print(f"| stage | before ({before}) ns | after ({after}) ns | after / before |")
print("|---|---:|---:|---:|")
for key, name in (("parse_ns", "JSON parse + GELF validation (what the server runs per message)"),
                  ("inflate_ns", "zlib inflate of the same message")):
    b, a = cost[("baseline", key)], cost[("ours", key)]
    print(f"| {name} | {cell(b)} | {cell(a)} | {statistics.median(a) / statistics.median(b):.2f} |")
PY
  exit 0
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "measuring (sender on CPU 0, receiver on CPU 1; load average before: $load_before)" >&2
full=(--count "$full_count" --seconds 10)
zlib_full=(--encoding zlib --precompute 1 --count "${ZLIB_COUNT:-1000000}" --seconds 10)
if [[ -n "$baseline" ]]; then
  compare_gelf  # defined below the single-tree report helpers; exits
fi
# 1. UDP plain, full rate
run_case udp-plain-full-floor floor udp "${full[@]}"
run_case udp-plain-full-ours ours udp "${full[@]}"
run_case udp-plain-full-graygelf graygelf udp "${full[@]}"
# 2. UDP zlib, full rate
# (payloads deflated before the clock starts: deflate is slower than inflate, so the sender would
# otherwise be what is measured)
run_case udp-zlib-full-ours ours udp "${zlib_full[@]}"
run_case udp-zlib-full-graygelf graygelf udp "${zlib_full[@]}"
# 3. UDP plain, steady rates
for steady in 100000 200000; do
  run_case "udp-plain-$steady-ours" ours udp --rate "$steady" --seconds "$steady_seconds"
  run_case "udp-plain-$steady-graygelf" graygelf udp --rate "$steady" --seconds "$steady_seconds"
done
# 4. TCP, full rate
run_case tcp-full-1conn-ours ours tcp "${full[@]}"
run_case tcp-full-4conn-ours ours tcp --connections 4 "${full[@]}"
# 5. HTTP keep-alive
run_case http-1conn-ours ours http --count 300000 --seconds 10
run_case http-8conn-ours ours http --connections 8 --count 500000 --seconds 10
run_case http-pipelined-ours ours http --connections 4 --window 16 --count 1000000 --seconds 10
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "decoding cost without sockets (gelf_decode_cost, CPU 1)" >&2
taskset -c 1 "$build/gelf_decode_cost" >"$work/decode_cost.md"

# --- report ----------------------------------------------------------------------------------------
pct_lost() {  # sent received
  awk -v s="$1" -v r="$2" 'BEGIN { if (s == 0) print "-"; else printf "%.2f%%", 100 * (s - r) / s }'
}
num() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }  # 1234567 -> 1,234,567
verdict() {  # value op threshold -> "met" / "**missed**"
  awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "met" : "**missed**" }'
}
rate_verdict() {  # id threshold: the wall-clock rate and the per-CPU-second rate against it
  echo "$(verdict "${rate[$1]}" ">=" "$2") (per CPU-s: $(verdict "${per_cpu[$1]}" ">=" "$2"))"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
row() {  # id label target
  local id=$1
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$(num "${load_rate[$id]}")" \
    "$(num "${sent[$id]}")" "$(num "${received[$id]}")" "**$(num "${rate[$id]}")**" \
    "$(pct_lost "${sent[$id]}" "${received[$id]}") ($(num "${kernel_drops[$id]}"))" \
    "$(num "${per_cpu[$id]}")" "$3"
}

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
ours_plain=${rate[udp-plain-full-ours]}
floor_plain=${rate[udp-plain-full-floor]}
floor_ratio=$(ratio "$ours_plain" "$floor_plain")
floor_cpu_ratio=$(ratio "${per_cpu[udp-plain-full-ours]}" "${per_cpu[udp-plain-full-floor]}")
steady_lost=$((sent[udp-plain-200000-ours] - received[udp-plain-200000-ours]))
table="$work/table.md"
{
  echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}; $(uname -sr); net.core.rmem_max=$(sysctl -n net.core.rmem_max); $(g++ --version | head -1); node $(node --version), graygelf $graygelf_version. Load average before/after the run: $load_before / $load_after (the machine is shared)."
  echo
  echo "Sender (\`gelf_load\`) pinned to CPU 0, receiver to CPU 1, 127.0.0.1. Messages 238-250 bytes of JSON with four additional fields. \"Received\" counts distinct \`_seq\` numbers. \"Lost\" is (sent - received) / sent, with the kernel's UDP RcvbufErrors for the run in brackets. Rates are over the receiver's first to last message (HTTP: requests answered 202 per second at the client). \"msg per receiver CPU-s\" is messages received per second of CPU time (user + system, all threads) the receiver used from its first message on: the rate one core of its own would sustain, which is the fairer figure when other work shares the receiver's core. UDP receive buffer granted: ours $(num "${granted[udp-plain-full-ours]}") bytes and floor $(num "${granted[udp-plain-full-floor]}") as Asio reports it (half the kernel's own accounting), graygelf $(num "${granted[udp-plain-full-graygelf]}") as the kernel reports it (net.core.rmem_default: graygelf sets none). The zlib rows deflate every payload before the clock starts."
  echo
  echo "| test | load msg/s | sent | received | received msg/s | lost (kernel drops) | msg per receiver CPU-s | target (issue) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
  row udp-plain-full-floor "UDP plain, full rate: recvmmsg floor" "reference (issue: ~360,000 msg/s)"
  row udp-plain-full-ours "UDP plain, full rate: **runner**" "≥ 250,000 msg/s: $(rate_verdict udp-plain-full-ours 250000); ≥ 0.7x floor: ${floor_ratio}x, $(verdict "$floor_ratio" ">=" 0.7) (per CPU-s: ${floor_cpu_ratio}x, $(verdict "$floor_cpu_ratio" ">=" 0.7))"
  row udp-plain-full-graygelf "UDP plain, full rate: graygelf" "peer (issue: ~128,000 msg/s, half lost)"
  row udp-zlib-full-ours "UDP zlib, full rate: **runner**" "≥ 100,000 msg/s: $(rate_verdict udp-zlib-full-ours 100000)"
  row udp-zlib-full-graygelf "UDP zlib, full rate: graygelf" "peer (issue: ~20,000 msg/s)"
  row udp-plain-100000-ours "UDP plain, steady 100,000/s: **runner**" "-"
  row udp-plain-100000-graygelf "UDP plain, steady 100,000/s: graygelf" "peer (issue: 0.15% lost)"
  row udp-plain-200000-ours "UDP plain, steady 200,000/s ${steady_seconds} s: **runner**" "no loss: $(verdict "$steady_lost" "<=" 0)"
  row udp-plain-200000-graygelf "UDP plain, steady 200,000/s ${steady_seconds} s: graygelf" "peer"
  row tcp-full-1conn-ours "TCP, full rate, 1 connection: **runner**" "≥ 300,000 msg/s: $(rate_verdict tcp-full-1conn-ours 300000)"
  row tcp-full-4conn-ours "TCP, full rate, 4 connections: **runner**" "≥ 300,000 msg/s: $(rate_verdict tcp-full-4conn-ours 300000)"
  row http-1conn-ours "HTTP keep-alive, 1 connection, waits for each 202: **runner** (req/s)" "≥ 30,000 req/s: $(rate_verdict http-1conn-ours 30000)"
  row http-8conn-ours "HTTP keep-alive, 8 connections, each waits for its 202: **runner** (req/s)" "≥ 30,000 req/s: $(rate_verdict http-8conn-ours 30000)"
  row http-pipelined-ours "HTTP keep-alive, 4 connections, 16 pipelined: **runner** (req/s)" "≥ 30,000 req/s: $(rate_verdict http-pipelined-ours 30000)"
  echo
  echo "CPU per message of the server's decoding stages alone (\`gelf_decode_cost\`, no sockets, best of three):"
  echo
  cat "$work/decode_cost.md"
} >"$table"
cat "$table"

if ((write)); then
  results="$here/RESULTS.md"
  begin='<!-- generated by run.sh --write: begin -->'
  end='<!-- generated by run.sh --write: end -->'
  generated="$work/generated.md"
  {
    echo "$begin"
    echo "Produced by \`bench/gelf/run.sh --write\` on $(date -u +%Y-%m-%d)."
    echo
    cat "$table"
    echo "$end"
  } >"$generated"
  if [[ -f "$results" ]] && grep -qF "$begin" "$results"; then
    # Keep what is around the generated block (the analysis), replace the block.
    awk -v b="$begin" -v e="$end" -v f="$generated" '
      $0 == b { while ((getline line < f) > 0) print line; skip = 1; next }
      $0 == e { skip = 0; next }
      !skip { print }' "$results" >"$results.tmp"
    mv "$results.tmp" "$results"
  else
    { echo "# GELF server benchmark results"; echo; cat "$generated"; } >"$results"
  fi
  echo "wrote $results" >&2
fi
