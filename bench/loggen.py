#!/usr/bin/env python3
"""A realistic application log for the store benchmarks (issue 14), not `yes`.

Writes about BYTES bytes of lines like
  2026-12-02T04:01:07.412093Z INFO  [worker-3] req=00012345 user=u4821 orders.sync: fetched 120 rows ...
to stdout: increasing timestamps (a few ms apart, jittered), increasing request ids, a logger
name, and a message of words drawn from a fixed vocabulary with a skewed (Zipf-like) frequency,
some numbers; about one line in 150 is a long JSON document (1-4 KB: a batch of records with
ids, names, amounts), one in 400 a warning with a short stack trace. Deterministic (seeded), so
every run and every machine gets the same bytes.

Usage: loggen.py BYTES > file
"""
import random
import sys

WORDS = """the a to of and in for is on that with as by at from this be it are was or an not have
has will can all one which their more other new some into when than up out do about time over
only also after should these its then first any two like well way most could would been any
request response records rows table column bucket file files upload download retry retrying
timeout connection connected closing closed opened session token refresh expired user users
account accounts order orders invoice invoices payment payments customer customers product
products item items batch batches page pages cursor offset limit query queries index cache
miss hit write read flush commit rollback transaction lock locked waiting queued started
finished failed succeeded skipped processing processed extract extracted load loaded transform
schema field fields value values null empty invalid valid parse parsed parser json csv header
headers manifest storage bucket project branch component config configuration parameter state
job jobs worker workers task tasks step steps stage output input memory disk network http https
status code error warning notice debug info latency duration elapsed total count size bytes
kilobytes megabytes seconds milliseconds sync synced api endpoint client server host port""".split()

LOGGERS = ["orders.sync", "http.client", "storage.upload", "db.pool", "auth.token", "csv.writer",
           "extractor.main", "scheduler", "state.store", "api.pagination"]
LEVELS = ["INFO"] * 40 + ["DEBUG"] * 12 + ["WARN"] * 2 + ["ERROR"]
NAMES = ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy"]


def main() -> None:
    target = int(sys.argv[1])
    rng = random.Random(14)
    # Zipf-like weights: word k is drawn with weight 1/(k+1).
    weights = [1.0 / (k + 1) for k in range(len(WORDS))]
    out = sys.stdout
    written = 0
    t_us = 1_764_644_400_000_000  # 2025-12-02T03:00:00Z
    req = 10_000
    chunk = []
    chunk_bytes = 0
    import datetime
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    while written < target:
        t_us += rng.randint(50, 4000)
        req += 1
        ts = (epoch + datetime.timedelta(microseconds=t_us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        r = rng.random()
        if r < 1 / 150:
            n = rng.randint(8, 40)
            items = ",".join(
                '{"id":%d,"name":"%s","amount":%d.%02d,"currency":"EUR","tags":["%s","%s"]}'
                % (req * 100 + i, rng.choice(NAMES), rng.randint(1, 99999), rng.randint(0, 99),
                   rng.choice(WORDS), rng.choice(WORDS))
                for i in range(n))
            line = ('{"ts":"%s","level":"debug","logger":"%s","request_id":%d,"event":"batch",'
                    '"items":[%s]}' % (ts, rng.choice(LOGGERS), req, items))
        elif r < 1 / 150 + 1 / 400:
            line = ("%s ERROR [worker-%d] req=%08d %s: %s\n"
                    "Traceback (most recent call last):\n"
                    '  File "/code/src/%s.py", line %d, in %s\n'
                    "    %s\n"
                    "ConnectionError: %s" % (
                        ts, rng.randint(1, 8), req, rng.choice(LOGGERS),
                        " ".join(rng.choices(WORDS, weights, k=rng.randint(4, 10))),
                        rng.choice(LOGGERS).split(".")[0], rng.randint(10, 900), rng.choice(WORDS),
                        " ".join(rng.choices(WORDS, weights, k=6)),
                        " ".join(rng.choices(WORDS, weights, k=5))))
        else:
            words = rng.choices(WORDS, weights, k=rng.randint(5, 16))
            if rng.random() < 0.6:
                words.insert(rng.randint(0, len(words)), str(rng.randint(0, 100000)))
            if rng.random() < 0.3:
                words.append("in %d ms" % rng.randint(1, 5000))
            line = "%s %-5s [worker-%d] req=%08d user=u%04d %s: %s" % (
                ts, rng.choice(LEVELS), rng.randint(1, 8), req, rng.randint(0, 9999),
                rng.choice(LOGGERS), " ".join(words))
        line += "\n"
        chunk.append(line)
        chunk_bytes += len(line)
        if chunk_bytes > 1 << 20:
            text = "".join(chunk)
            out.write(text)
            written += len(text.encode())
            chunk = []
            chunk_bytes = 0
    if chunk:
        out.write("".join(chunk))


if __name__ == "__main__":
    main()
