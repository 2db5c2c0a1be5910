#!/usr/bin/env bash
# Builds the scrubber fuzz target with clang's libFuzzer, AddressSanitizer and UBSan, independent of
# the main CMake build, and runs it for SECONDS (default 30) on one core. The corpus is kept in
# $FUZZ_WORK/corpus (default /tmp/runner-fuzz) so later runs start where earlier ones stopped.
# Needs the Debian `clang` package (apt-get install clang). Exit status: libFuzzer's (0 = no crash).
# Usage: fuzz/build_and_run.sh [SECONDS]
set -euo pipefail

seconds="${1:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="${FUZZ_WORK:-/tmp/runner-fuzz}"
cxx="$here/cached_clang.sh"  # clang++ (CLANGXX), skipped when no input changed
mkdir -p "$work/corpus"

"$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" "$here/fuzz_scrubber.cpp" "$root/secrets/secret_scrubber.cpp" "$root/secrets/encoding.cpp" \
  "$root/common/utf8.cpp" \
  -lcrypto -lcurl \
  -o "$work/fuzz_scrubber"

# A few seeds: secrets that overlap, a one-byte secret, and a form split across writes.
printf '\x02\x04abcd\x04cdXY\x03\x01\x02\x05..abcdXYZ abcd' >"$work/corpus/seed-overlap"
printf '\x01\x01x\x00axbxxc' >"$work/corpus/seed-short"
printf '\x01\x08hunter2!\x02\x03\x01b64 aHVudGVyMiE= url hunter2%%21' >"$work/corpus/seed-forms"

exec "$work/fuzz_scrubber" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$work/corpus"
