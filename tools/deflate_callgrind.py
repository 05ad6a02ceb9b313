#!/usr/bin/env python3
"""Instructions per token, and the exact deflate's share of them, counted by callgrind.

    python tools/deflate_callgrind.py [WORKLOAD ...]      # default: rtc-007 rtc+rtm-007 rtm-007

For each workload of benchmarks/impls.py the drop-in ("agora-token C, compat") batch function runs
under ``valgrind --tool=callgrind`` twice, with SMALL and LARGE fresh-uid tokens after the same
warm-up; the difference of the two totals over LARGE - SMALL is the cost of one token, start-up
and warm-up cancelled out. fp_deflate's part is the difference of fpd_compress's inclusive counts
over the same LARGE - SMALL tokens (one call each). Instruction counts do not depend on the
machine's load, which wall-clock times on a shared machine do; they do not see cache misses or
mispredicted branches.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL, LARGE = 1000, 3000

CHILD = """
import sys
sys.path.insert(0, {bench!r})
import impls
workload, count = sys.argv[1], int(sys.argv[2])
with impls.use_backend("c"):
    run = impls.batch_function(workload, "agora-token C, compat")
    run(impls.make_inputs(workload, 200))  # warm-up: caches, shape tables, the bound's track record
    run(impls.make_inputs(workload, count))
"""


def callgrind(workload: str, count: int, out: str) -> int:
    """Runs one batch under callgrind; returns the total instruction count."""
    code = CHILD.format(bench=os.path.join(ROOT, "benchmarks"))
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", code, workload,
         str(count)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(re.search(r"Collected : (\d+)", proc.stderr).group(1))


def deflate_total(out: str) -> int:
    """fpd_compress's inclusive instruction count in a callgrind output file."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=caller", out],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    found = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\*\s+\S*:fpd_compress ", text, re.M)
    return int(found.group(1).replace(",", "")) if found else 0


def main() -> None:
    workloads = sys.argv[1:] or ["rtc-007", "rtc+rtm-007", "rtm-007"]
    with tempfile.TemporaryDirectory() as tmp:
        for workload in workloads:
            small_out, large_out = os.path.join(tmp, "small"), os.path.join(tmp, "large")
            small = callgrind(workload, SMALL, small_out)
            large = callgrind(workload, LARGE, large_out)
            per_token = (large - small) / (LARGE - SMALL)
            deflate = (deflate_total(large_out) - deflate_total(small_out)) / (LARGE - SMALL)
            print(
                f"{workload:12} {per_token:9,.0f} instructions per token (drop-in call), "
                f"fp_deflate {deflate:8,.0f} per call ({deflate / per_token:.0%})"
            )


if __name__ == "__main__":
    main()
