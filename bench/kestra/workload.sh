# The Kestra workload of the engine benchmarks (sourced by bench/run_engine_benchmarks.sh and
# bench/kestra/run.sh --engine): 2,000,000 lines in blocks of 30, 27 plain and 3 protocol (a log,
# an output, a metric), ~83 bytes each; `yes` repeats the block. The plain variant has the same
# lines with the markers replaced by "xx".
kestra_block() {  # $1 = prefix for protocol lines ("::" or "xx")
  local plain i
  plain=$(printf 'x%.0s' $(seq 1 82))
  for i in $(seq 1 9); do printf '%s\n' "$plain"; done
  printf '%s{"logs":[{"level":"INFO","message":"processed a batch of rows from the orders table"}]}%s\n' "$1" "$1"
  for i in $(seq 1 9); do printf '%s\n' "$plain"; done
  printf '%s{"outputs":{"last_partition":"2024-01-01","rows_in_last_batch":123456789012}}%s\n' "$1" "$1"
  for i in $(seq 1 8); do printf '%s\n' "$plain"; done
  printf '%s{"metrics":[{"name":"rows","type":"counter","value":1000,"tags":{"table":"orders"}}]}%s\n' "$1" "$1"
  printf '%s' "$plain"
}
kestra_component() {  # $1 = prefix, $2 = image
  python3 - "$(kestra_block "$1")" "$2" <<'PY'
import json, sys
block, image = sys.argv[1], sys.argv[2]
print(json.dumps({"id": "bench.kestra", "image": image, "limits": {"timeout": 600},
                  "command": ["sh", "-c", 'yes "$BLOCK" | head -n 2000000'], "env": {"BLOCK": block}}))
PY
}
