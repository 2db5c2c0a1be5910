#!/usr/bin/env bash
# Scrubber benchmark: builds bench_scrub (-O2, no -march, so the numbers hold for a generic x86-64
# build), generates BENCH_BYTES (default 1 GiB) of deterministic log text once, and for 1, 100,
# 1,000 and 10,000 random secrets (8-40 chars) measures, in the same run:
#   - SecretScrubber over the whole file in 64 KiB writes (best of two passes, one core);
#   - `grep -F -c -f secrets.txt` over the same file (LC_ALL=C; it only finds, does not replace);
#   - the naive replace-secret-by-secret loop (raw, base64, JSON forms) on as much of the file as
#     it gets through in NAIVE_SECONDS (default 10) per secret count.
# Prints a markdown table; with --write also stores it in RESULTS.md next to this script.
# Usage: bench/scrub/run.sh [--write]     Env: BENCH_BYTES, BENCH_WORK, NAIVE_SECONDS, CXX
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${BENCH_WORK:-/tmp/runner-bench-scrub}"
bytes="${BENCH_BYTES:-1073741824}"
naive_seconds="${NAIVE_SECONDS:-10}"
cxx="${CXX:-g++}"
mkdir -p "$work"

"$cxx" -O2 -std=c++20 -I"$root" "$here/bench_scrub.cpp" "$root/secrets/secret_scrubber.cpp" \
  "$root/secrets/encoding.cpp" "$root/common/utf8.cpp" -lcrypto -lcurl -o "$work/bench_scrub"

data="$work/log-$bytes.txt"
if [[ ! -s "$data" ]]; then
  echo "generating $bytes bytes of log text in $data" >&2
  "$work/bench_scrub" gen "$data" "$bytes"
fi
cat "$data" >/dev/null  # warm the page cache for grep

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
table="$work/table.md"
{
  echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}; $(uname -sr); $("$cxx" --version | head -1); $(grep --version | head -1)"
  echo
  echo "Data: $(numfmt --to=iec "$bytes") of generated log text (plain, JSON and stack-trace lines; a secret form every ~8 MB). Scrubber: one core, 64 KiB writes, -O2. MB = 10^6 bytes."
  echo
  echo "| secrets | patterns (all forms) | matcher build | scrubber | grep -F -f (find only) | naive replace loop | scrubber vs 1 secret |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
} >"$table"

base=""
for n in 1 100 1000 10000; do
  secrets="$work/secrets-$n.txt"
  "$work/bench_scrub" secrets "$secrets" "$n"
  line="$("$work/bench_scrub" scrub "$data" "$secrets")"
  echo "scrubber: $line" >&2
  get() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$line"; }
  patterns="$(get patterns)"; build="$(get build_ms)"; mbps="$(get mb_per_s)"; hidden="$(get hidden)"
  [[ -z "$base" ]] && base="$mbps"

  t0="$(date +%s.%N)"
  matches="$(LC_ALL=C grep -F -c -f "$secrets" "$data" || true)"
  t1="$(date +%s.%N)"
  grep_mbps="$(awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / 1e6 / (z - a) }')"
  echo "grep -F: $grep_mbps MB/s, $matches matching lines" >&2

  naive_line="$("$work/bench_scrub" naive "$data" "$secrets" "$naive_seconds")"
  echo "naive: $naive_line" >&2
  naive_mbps="$(sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p' <<<"$naive_line")"
  naive_mb="$(sed -n 's/.*naive_bytes=\([0-9]*\).*/\1/p' <<<"$naive_line" | awk '{ printf "%.0f", $1 / 1e6 }')"

  ratio="$(awk -v a="$base" -v b="$mbps" 'BEGIN { printf "%.2fx slower", a / b }')"
  printf '| %s | %s | %s ms | **%s MB/s** (%s hidden) | %s MB/s | %s MB/s (on %s MB) | %s |\n' \
    "$n" "$patterns" "$build" "$mbps" "$hidden" "$grep_mbps" "$naive_mbps" "$naive_mb" "$ratio" >>"$table"
done

cat "$table"
if [[ "${1:-}" == "--write" ]]; then
  {
    echo "# Scrubber benchmark results"
    echo
    echo "Produced by \`bench/scrub/run.sh --write\` on $(date -u +%Y-%m-%d)."
    echo
    cat "$table"
  } >"$here/RESULTS.md"
fi
