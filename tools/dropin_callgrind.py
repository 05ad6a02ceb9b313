#!/usr/bin/env python3
"""benchmarks/dropin.py's comparison in instructions: each drop-in builder against the Pythonic call
for the same token, per token, counted by callgrind (C backend).

    python tools/dropin_callgrind.py [LABEL-SUBSTRING ...]     # default: every pair of dropin.PAIRS

For each pair both calls run under ``valgrind --tool=callgrind`` with SMALL and LARGE fresh users
after the same warm-up; the difference of the totals over LARGE - SMALL is one token's cost. The
ratio drop-in / Pythonic is the one dropin.py times (goal: at most 1.05), without the noise of a
shared machine: instructions are not time (they do not see cache misses or what each costs), but
both calls build the same token with the same kernel, so they differ by their Python only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL, LARGE = 500, 1500

CHILD = """
import sys
sys.path.insert(0, {bench!r})
import dropin
label, side, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
build = dropin.PAIRS[label][side]
for i in range(1, 201):  # warm-up: caches, the RTC table
    build(i)
for i in range(1000, 1000 + count):
    build(i)
"""


def instructions(label: str, side: int, count: int) -> int:
    code = CHILD.format(bench=os.path.join(ROOT, "benchmarks"))
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code, label,
         str(side), str(count)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(re.search(r"Collected : (\d+)", proc.stderr).group(1))


def main() -> None:
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import dropin

    wanted = sys.argv[1:]
    labels = [label for label in dropin.PAIRS if not wanted or any(w in label for w in wanted)]
    print("| builder | Pythonic instructions/token | drop-in instructions/token | drop-in / Pythonic |")
    print("|---|---:|---:|---:|")
    worst = (0.0, "")
    for label in labels:
        per = [(instructions(label, side, LARGE) - instructions(label, side, SMALL)) / (LARGE - SMALL)
               for side in (0, 1)]  # fmt: skip
        ratio = per[1] / per[0]
        worst = max(worst, (ratio, label))
        print(f"| {label} | {per[0]:,.0f} | {per[1]:,.0f} | {ratio:.3f} |", flush=True)
    print(f"\n- the slowest drop-in relative to its Pythonic call: {worst[1]}, {worst[0]:.3f}")


if __name__ == "__main__":
    main()
