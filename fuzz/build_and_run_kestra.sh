#!/usr/bin/env bash
# Builds the Kestra protocol fuzz target (simdjson's reading of `::{...}::` payloads against
# nlohmann's) with clang's libFuzzer, AddressSanitizer and UBSan, independent of the main CMake
# build, and runs it for SECONDS (default 30) on one core with a 512 MB RSS limit. The corpus is
# kept in $FUZZ_WORK/kestra-corpus (default /tmp/runner-fuzz). Needs the Debian `clang`,
# `libsimdjson-dev`, `libfmt-dev` and nlohmann-json3-dev packages. Exit status: libFuzzer's.
# Usage: fuzz/build_and_run_kestra.sh [SECONDS]
set -euo pipefail

seconds="${1:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="${FUZZ_WORK:-/tmp/runner-fuzz}"
cxx="$here/cached_clang.sh"  # clang++ (CLANGXX), skipped when no input changed
corpus="$work/kestra-corpus"
mkdir -p "$corpus"

"$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" "$here/fuzz_kestra.cpp" "$root/logging/kestra_protocol.cpp" "$root/common/utf8.cpp" \
  "$root/logging/event.cpp" -lsimdjson -lfmt -o "$work/fuzz_kestra"

# Seeds: the three kinds of payload as @kestra-io/libs prints them, a bare line and a block.
printf '%s\n' '::{"logs":[{"level":"INFO","message":"hello"}]}::' \
  '::{"outputs":{"a":1,"b":[true,null,"x"],"c":{"d":-0.5e3}}}::' \
  '::{"metrics":[{"name":"rows","type":"counter","value":5,"tags":{"p":"a"}}]}::' \
  >"$corpus/seed-node"
printf '%s\n' '{"metrics":[{"name":"t","type":"timer","value":"PT1.5S","description":"d"}]}' \
  '::{"logs": [' '{"level": "WARNING", "message": "caf\u00e9"}]}::' >"$corpus/seed-block"

exec "$work/fuzz_kestra" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=512 \
  -artifact_prefix="$work/" -print_final_stats=1 "$corpus"
