#!/usr/bin/env python3
"""Paired benchmark rounds: every row once per round, the order rotated each round, medians.

Side by side in one run is what makes ratios trustworthy on a shared machine: the load moves
during a run, and a row measured minutes after another measures the machine as much as the
program. Each round runs every row once (rotating which goes first); a row's figures are medians
over rounds, and its ratio to the first row is the median of the per-round ratios.

Per run: wall time, CPU (user+sys of the process and its waited-for children, os.wait4), peak
RSS (ru_maxrss), and, for rows that name a store file, the growth of that file (with its -wal)
over the run. Standard output and error go to a pipe drained by `cat > /dev/null`, the way a
terminal user's output to `| less` or a CI log does (not to a file, not --quiet).

Usage: paired.py SPEC.json   where SPEC is
  {"rounds": 5, "title": "...", "rows": [{"name": "...", "argv": [...], "env": {...},
   "store": "/path/runner.db" (optional), "reset": "shell to run before, untimed" (optional)}]}
Prints a Markdown table and writes SPEC.json.out with every measurement.
"""
import json
import os
import statistics
import subprocess
import sys
import time


def file_bytes(path):
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.stat(path + suffix).st_size
        except FileNotFoundError:
            pass
    return total


def run_once(row):
    if row.get("reset"):
        subprocess.run(row["reset"], shell=True, check=True)
    env = dict(os.environ)
    env.update(row.get("env", {}))
    store = row.get("store")
    before = file_bytes(store) if store else 0
    read_end, write_end = os.pipe()
    drain = subprocess.Popen(["cat"], stdin=read_end, stdout=subprocess.DEVNULL)
    os.close(read_end)
    start = time.monotonic()
    child = subprocess.Popen(row["argv"], stdout=write_end, stderr=write_end, env=env)
    os.close(write_end)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    drain.wait()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"paired.py: {row['name']} exited {code}")
    result = {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
              "user": usage.ru_utime, "sys": usage.ru_stime, "rss_kib": usage.ru_maxrss}
    if store:
        result["store_growth"] = file_bytes(store) - before
    return result


def main():
    spec_path = sys.argv[1]
    spec = json.load(open(spec_path))
    rows = spec["rows"]
    rounds = spec.get("rounds", 5)
    results = [[] for _ in rows]
    for r in range(rounds):
        order = [(r + k) % len(rows) for k in range(len(rows))]
        for i in order:
            results[i].append(run_once(rows[i]))
    json.dump({"spec": spec, "results": results}, open(spec_path + ".out", "w"), indent=1)
    med = lambda i, key: statistics.median(x[key] for x in results[i])
    print(f"| {spec.get('title', 'command')} | wall (median) | ratio to first row (median of rounds) "
          "| CPU user+sys | peak RSS | store growth per run |")
    print("|---|---:|---:|---:|---:|---:|")
    for i, row in enumerate(rows):
        ratios = [results[i][k]["wall"] / results[0][k]["wall"] for k in range(rounds)]
        growth = (f"{med(i, 'store_growth') / 1e6:.1f} MB" if row.get("store") else "-")
        print(f"| {row['name']} | {med(i, 'wall'):.3f} s | {statistics.median(ratios):.3f} "
              f"| {med(i, 'cpu'):.3f} s | {med(i, 'rss_kib') / 1024:.1f} MiB | {growth} |")
    print(f"\n{rounds} rounds, order rotated each round; "
          f"wall range per row: " + "; ".join(
              f"{min(x['wall'] for x in results[i]):.2f}-{max(x['wall'] for x in results[i]):.2f} s"
              for i in range(len(rows))))


if __name__ == "__main__":
    main()
