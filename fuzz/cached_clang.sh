#!/usr/bin/env bash
# A clang++ that skips the build when nothing it would read changed: the fuzz scripts compile
# their target and every source it needs in one sanitizer build (a minute or more on two cores,
# about ten under load), on every test run. The key is the command line, the compiler's version,
# the sources named on it and every header of the repository (hashing them all takes
# milliseconds and never misses an include); it is kept next to the output as OUT.key.
# Usage: the compiler's own, with `-o OUT` on the command line. CLANGXX picks the compiler.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
compiler="${CLANGXX:-clang++}"
out=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "-o" ]; then out="${args[$((i + 1))]}"; fi
done
key=$({
  printf '%s\n' "$compiler" "${args[@]}"
  "$compiler" --version
  for a in "${args[@]}"; do [ "$a" != "$out" ] && [ -f "$a" ] && cat "$a"; done
  find "$root" -path "$root/build*" -prune -o -name '*.hpp' -print | LC_ALL=C sort | xargs cat
} | sha256sum | cut -d' ' -f1)
if [ -n "$out" ] && [ -x "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
  echo "fuzz: $(basename "$out") is up to date (sources unchanged)"
  exit 0
fi
rm -f "$out.key"
"$compiler" "$@"
[ -n "$out" ] && printf '%s\n' "$key" >"$out.key"
exit 0
