#!/usr/bin/env bash
# Builds one of the configuration fuzz targets with clang's libFuzzer, AddressSanitizer and UBSan,
# independent of the main CMake build, seeds it with the hostile inputs of issue 11, and runs it
# for SECONDS (default 30) on one core with a 512 MB RSS limit (an alias bomb or a copy of a deep
# document fails the run):
#   component    component.json: the bounded JSON reader, decryption, validation
#   ship-config  `runner ship --config`: the event-built YAML reader and the JSON reader
# The corpus is kept in $FUZZ_WORK/TARGET-corpus (default /tmp/runner-fuzz) so later runs start
# where earlier ones stopped. Needs the Debian packages clang, nlohmann-json3-dev, libssl-dev,
# libcurl4-openssl-dev, libsimdjson-dev, libyaml-cpp-dev and libfmt-dev. Exit status: libFuzzer's (0 = no crash).
# Usage: fuzz/build_and_run_config.sh TARGET [SECONDS]
set -euo pipefail

target="${1:?usage: build_and_run_config.sh component|ship-config [SECONDS]}"
seconds="${2:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
work="${FUZZ_WORK:-/tmp/runner-fuzz}"
cxx="$here/cached_clang.sh"  # clang++ (CLANGXX), skipped when no input changed
corpus="$work/$target-corpus"
mkdir -p "$corpus"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -I"$root")

seed() { printf '%s' "$2" >"$corpus/seed-$1"; }

case "$target" in
component)
  "$cxx" "${flags[@]}" "$here/fuzz_component.cpp" "$root/runner/component.cpp" \
    "$root/runner/component_fields.cpp" "$root/runner/component_limits.cpp" \
    "$root/runner/component_syntax.cpp" "$root/runner/component_stages.cpp" \
    "$root/runner/keboola_env.cpp" "$root/runner/errors.cpp" \
    "$root/logging/json_reader.cpp" "$root/logging/kestra_namespace.cpp" "$root/common/utf8.cpp" \
    "$root/secrets/config_cipher.cpp" "$root/secrets/secret_scrubber.cpp" \
    "$root/secrets/encoding.cpp" -lcrypto -lcurl -o "$work/fuzz_component"
  long=$(printf 'a%.0s' $(seq 3000))
  seed valid '{"id":"my-org.ex","image":"runner-busybox:latest","command":["sh","-c","echo hi"],"env":{"A":"1","#T":"s3cret"},"parameters":{"#p":"x","list":[1,2.5,null,true]},"limits":{"memory":"512m","cpus":1.5,"pids":100,"timeout":60},"labels":{"team":"data"},"logging":{"type":"gelf","gelf_server_type":"udp","verbosity":{"debug":"verbose"}},"security":{"cap_add":["NET_RAW"]},"namespace":"company.team","user":"1000:1000"}'
  seed long-id "{\"id\":\"$long\",\"image\":\"x\"}"
  seed long-namespace "{\"id\":\"a\",\"image\":\"x\",\"namespace\":\"$long\"}"
  seed long-env "{\"id\":\"a\",\"image\":\"x\",\"env\":{\"$long\":\"v\"}}"
  seed long-memory "{\"id\":\"a\",\"image\":\"x\",\"limits\":{\"memory\":\"$long\"}}"
  seed deep "{\"id\":\"a\",\"image\":\"x\",\"parameters\":{\"p\":$(printf '[%.0s' $(seq 1500))$(printf ']%.0s' $(seq 1500))}}"
  seed deep-objects "{\"id\":\"a\",\"image\":\"x\",\"parameters\":$(printf '{"#a":%.0s' $(seq 600))1$(printf '}%.0s' $(seq 600))}"
  seed timeout-inf '{"id":"a","image":"x","limits":{"timeout":1e999999999}}'
  seed timeout-digits "{\"id\":\"a\",\"image\":\"x\",\"limits\":{\"timeout\":$(printf '9%.0s' $(seq 2000))}}"
  seed cpus '{"id":"a","image":"x","limits":{"cpus":1e10,"pids":99999999999999999999}}'
  seed duplicate '{"id":"a","image":"reviewed:1","image":"other:1"}'
  seed nul '{"id":"a","image":"x","command":["sh","-c","echo\u0000hi"],"env":{"A":"x\u0000"},"labels":{"l\u0000":"v"}}'
  seed image '{"id":"a","image":"UPPER/../x::"}'
  seed image-digest '{"id":"a","image":"reg.example.com:5000/a__b/c-d@sha256:0123456789abcdef0123456789abcdef"}'
  seed user '{"id":"a","image":"x","user":"-1"}'
  seed secret-in-id '{"id":"acme-hunter22","image":"x","parameters":{"#password":"hunter22"},"labels":{"k":"hunter22"}}'
  seed ciphertext '{"id":"a","image":"x","parameters":{"#p":"RUNNER::ENC::AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}'
  max_len=8192
  ;;
ship-config)
  "$cxx" "${flags[@]}" "$here/fuzz_ship_config.cpp" "$root/shipper/shipper_config.cpp" \
    "$root/shipper/cron_schedule.cpp" "$root/shipper/yaml_reader.cpp" "$root/logging/json_reader.cpp" \
    "$root/logging/kestra_namespace.cpp" "$root/logging/kestra_protocol.cpp" \
    "$root/logging/event.cpp" "$root/common/utf8.cpp" \
    -lyaml-cpp -lfmt -lsimdjson -o "$work/fuzz_ship_config"
  laughs='a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
  prev=a
  for n in b c d e f g h i; do
    laughs="$laughs
$n: &$n [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
    prev=$n
  done
  seed valid $'\x00logExporters:\n  - id: f\n    type: file\n    path: /tmp\nlogLevelFilter: WARN\nnamespace: company.team\nbatchSize: 10\nlookbackPeriod: P1D\n'
  seed laughs $'\x00'"$laughs"$'\nlogExporters: *i\n'
  seed laughs-top $'\x00'"$laughs"$'\nx: *i\n'
  seed cycle $'\x00a: &a [*a]\n'
  seed cycle-map $'\x00a: &a {b: *a}\n'
  seed deep $'\x00logExporters: '"$(printf '[%.0s' $(seq 1000))$(printf ']%.0s' $(seq 1000))"
  seed duplicate $'\x00batchSize: 1\nbatchSize: 2\n'
  seed documents $'\x00a: 1\n---\nb: 2\n'
  seed number $'\x00logExporters: [{id: a, type: file, x: 1.0e99999}]\n'
  seed json $'\x01{"logExporters":[{"id":"f","type":"file"}],"batchSize":7,"batchSize":8}'
  max_len=4096
  ;;
*)
  echo "unknown target $target (component or ship-config)" >&2
  exit 64
  ;;
esac

fuzzer="$work/fuzz_${target//-/_}"
exec "$fuzzer" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=512 \
  -artifact_prefix="$work/$target-" -print_final_stats=1 "$corpus"
