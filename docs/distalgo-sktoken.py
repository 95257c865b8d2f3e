#!/usr/bin/env python3
"""Runs DistAlgo's own Suzuki-Kasami example (`sktoken`, installed from PyPI as pyDistAlgo) and
counts, from its debug log, the messages it delivers by kind and the order of its grants.

Usage (DistAlgo 1.1 needs Python 3.7):
    python3.7 -m venv /tmp/da && /tmp/da/bin/pip install pyDistAlgo
    python3 docs/distalgo-sktoken.py /tmp/da/bin/python N ROUNDS

Nothing of DistAlgo is copied here: the example is run as installed. Every process requests
ROUNDS times as soon as it starts; the one DistAlgo calls "lucky" holds the token at the start.
"""
import collections
import os
import re
import subprocess
import sys

python, n, rounds = sys.argv[1], sys.argv[2], sys.argv[3]
example = subprocess.run(
    [python, "-c", "import da, os; print(os.path.dirname(da.__file__))"],
    capture_output=True, text=True, check=True,
).stdout.strip()
example = os.path.join(example, "examples", "sktoken", "orig.da")
run = subprocess.run(
    [python, "-m", "da", "-L", "debug", example, n, rounds],
    capture_output=True, text=True, timeout=300,
)
log = (run.stdout + run.stderr).splitlines()
delivered = collections.Counter()
grants, lucky = [], None
forward = re.compile(r"Local forward from <P:(\w+)> to <P:(\w+)>: \(<Command.Message: 20>, \(None, \('(\w+)'")
output = re.compile(r"<P:(\w+)>:OUTPUT: (.*)$")
for line in log:
    m = forward.search(line)
    if m:
        src, dst, kind = m.groups()
        delivered[(kind, "to itself" if src == dst else "to another")] += 1
    m = output.search(line)
    if m:
        if m.group(2).startswith("In cs"):
            grants.append(m.group(1))
        elif m.group(2).startswith("I'm lucky"):
            lucky = m.group(1)
entries = len(grants)
print(f"N={n} rounds={rounds}: {entries} entries, lucky {lucky}")
for (kind, where), count in sorted(delivered.items()):
    print(f"  {kind:<8} {where:<11} {count:>5}  ({count / max(entries, 1):.3f} per entry)")
print("  grants:", " ".join(grants))
