#!/usr/bin/env bash
# Kestra protocol parser benchmark: builds bench_kestra (-O2, no -march, one compiler job) against
# the logging sources it needs and runs it. With --write also stores the output, with the machine,
# in RESULTS.md next to this script.
# Usage: bench/kestra/run.sh [--write]     Env: BENCH_WORK (default /tmp/runner-bench-kestra), CXX
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${BENCH_WORK:-/tmp/runner-bench-kestra}"
cxx="${CXX:-g++}"
mkdir -p "$work"

"$cxx" -O2 -std=c++20 -I"$root" "$here/bench_kestra.cpp" "$root/logging/kestra_protocol.cpp" \
  "$root/logging/kestra_results.cpp" "$root/logging/kestra_json_scan.cpp" "$root/logging/line_splitter.cpp" "$root/logging/utf8.cpp" \
  "$root/logging/event.cpp" -lfmt -o "$work/bench_kestra"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
out="$work/results.md"
{
  echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}; $(uname -sr); $("$cxx" --version | head -1); -O2, one core."
  echo
  "$work/bench_kestra"
} | tee "$out"

if [[ "${1:-}" == "--write" ]]; then
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
