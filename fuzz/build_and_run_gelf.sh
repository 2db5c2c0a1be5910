#!/usr/bin/env bash
# Builds the GELF fuzz target (decoder, message validation with simdjson against nlohmann, chunk
# assembler, TCP framer, HTTP requests through Beast) with clang's libFuzzer, AddressSanitizer and
# UBSan, independent of the main CMake build, and runs it for SECONDS (default 30) on one core with
# a 512 MB RSS limit, so unbounded memory fails the run. The corpus is kept in
# $FUZZ_WORK/gelf-corpus (default /tmp/runner-fuzz) so later runs start where earlier ones
# stopped. Needs the Debian `clang`, `zlib1g-dev`, `libsimdjson-dev`, `libboost-dev` and
# nlohmann-json3-dev packages. Exit status: libFuzzer's (0 = no crash).
# Usage: fuzz/build_and_run_gelf.sh [SECONDS]
set -euo pipefail

seconds="${1:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="${FUZZ_WORK:-/tmp/runner-fuzz}"
cxx="$here/cached_clang.sh"  # clang++ (CLANGXX), skipped when no input changed
corpus="$work/gelf-corpus"
mkdir -p "$corpus"

gelf="$root/logging/gelf"
"$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" "$here/fuzz_gelf.cpp" "$gelf/payload_decoder.cpp" "$gelf/payload_encoder.cpp" \
  "$gelf/message.cpp" "$gelf/chunk_assembler.cpp" "$gelf/tcp_framer.cpp" \
  "$gelf/http_request_reader.cpp" "$root/common/utf8.cpp" -lz -lsimdjson -o "$work/fuzz_gelf"

# Seeds: a plain message, the same gzip and zlib compressed, a chunk record pair, an HTTP request.
message='{"version":"1.1","host":"h","short_message":"m","level":"3","timestamp":1.605e9,"_a":{"b":[null,true]}}'
printf '%s' "$message" >"$corpus/seed-plain"
printf '%s' "$message" | gzip -c >"$corpus/seed-gzip"
python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.argv[1].encode()))' \
  "$message" >"$corpus/seed-zlib"
printf '\x81\x06\x00\x02{"shor\x81\x0f\x01\x02t_message":"x"}' >"$corpus/seed-chunks"
printf '\x05POST /gelf HTTP/1.1\r\nContent-Length: 17\r\n\r\n{"message":"x"}\x00\n' \
  >"$corpus/seed-http"

exec "$work/fuzz_gelf" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=512 \
  -artifact_prefix="$work/" -print_final_stats=1 "$corpus"
