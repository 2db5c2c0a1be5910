#!/usr/bin/env python3
# For scripts/lint.sh: prints "<key> <file>" for each source file named on stdin, where the key
# is a hash of the file, every project header it includes (transitively, `#include "..."` looked
# up from the repository root), .clang-tidy and the clang-tidy version. A file whose key is in
# build/lint-clean was checked clean before with exactly these inputs, so clang-tidy (seconds
# per file) runs again only where something it reads changed.
import hashlib
import re
import subprocess
import sys

INCLUDE = re.compile(rb'^\s*#\s*include\s+"([^"]+)"', re.M)
memo = {}


def includes(path):
    if path not in memo:
        try:
            with open(path, 'rb') as f:
                text = f.read()
        except OSError:
            text = b''
        memo[path] = (text, [m.decode() for m in INCLUDE.findall(text)])
    return memo[path]


def key(source, base):
    seen, todo, h = set(), [source], hashlib.sha256(base)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        text, deps = includes(path)
        h.update(path.encode() + b'\0' + hashlib.sha256(text).digest())
        todo.extend(d for d in deps if d not in seen)
    return h.hexdigest()


with open('.clang-tidy', 'rb') as f:
    base = f.read() + subprocess.run(['clang-tidy', '--version'], capture_output=True).stdout
for line in sys.stdin:
    source = line.strip()
    if source:
        print(key(source, base), source)
