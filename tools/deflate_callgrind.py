#!/usr/bin/env python3
"""Instructions per token, and where they go, counted by callgrind.

    python tools/deflate_callgrind.py [--impl compat|pythonic|official|all] [--top N] [WORKLOAD ...]
    # default: the drop-in ("agora-token C, compat") on rtc-007 rtc+rtm-007 rtm-007

For each workload of benchmarks/impls.py and each implementation asked for, the batch function the
benchmarks time runs under ``valgrind --tool=callgrind`` twice, with SMALL and LARGE fresh-uid
tokens after the same warm-up; the difference of the two totals over LARGE - SMALL is the cost of
one token, start-up and warm-up cancelled out. fp_deflate's part is the difference of
fpd_compress's inclusive counts over the same LARGE - SMALL tokens (one call each). ``--top N``
also lists the N functions with the most exclusive instructions per token, counted the same way.
Instruction counts do not depend on the machine's load, which wall-clock times on a shared machine
do; they do not see cache misses, mispredicted branches or what an instruction costs (the SHA-256
blocks are counted in software, where a CPU with SHA extensions takes far less time).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL, LARGE = 1000, 3000
IMPLS = {
    "compat": "agora-token C, compat",
    "pythonic": "agora-token C, Pythonic",
    "official": "agoraiotools 0.3.4 (official python3)",
}

CHILD = """
import sys
sys.path.insert(0, {bench!r})
import impls
workload, impl, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with impls.use_backend(impls.backend_of(impl)):
    run = impls.batch_function(workload, impl)
    run(impls.make_inputs(workload, 200))  # warm-up: caches, the RTC table, the bound's track record
    run(impls.make_inputs(workload, count))
"""


def callgrind(workload: str, impl: str, count: int, out: str) -> int:
    """Runs one batch under callgrind; returns the total instruction count."""
    code = CHILD.format(bench=os.path.join(ROOT, "benchmarks"))
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", code, workload,
         impl, str(count)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(re.search(r"Collected : (\d+)", proc.stderr).group(1))


def functions(out: str, inclusive: bool) -> dict[str, int]:
    """Every function's instruction count (inclusive or exclusive) in a callgrind output file."""
    command = ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", "--auto=no", out]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    counts: dict[str, int] = {}
    for found in re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+(?:\*\s+)?(\S+?)(?: \[[^\]]*\])?$", text, re.M):
        name = found.group(2).split(":", 1)[-1]
        counts[name] = max(counts.get(name, 0), int(found.group(1).replace(",", "")))  # listed once per file
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=[*IMPLS, "all"], default="compat")
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions per token")
    parser.add_argument("workloads", nargs="*", default=["rtc-007", "rtc+rtm-007", "rtm-007"])
    args = parser.parse_args()
    impls = list(IMPLS) if args.impl == "all" else [args.impl]
    n = LARGE - SMALL
    with tempfile.TemporaryDirectory() as tmp:
        for workload in args.workloads:
            for impl in impls:
                small_out, large_out = os.path.join(tmp, "small"), os.path.join(tmp, "large")
                small = callgrind(workload, IMPLS[impl], SMALL, small_out)
                large = callgrind(workload, IMPLS[impl], LARGE, large_out)
                per_token = (large - small) / n
                inc_small, inc_large = functions(small_out, True), functions(large_out, True)
                deflate = (inc_large.get("fpd_compress", 0) - inc_small.get("fpd_compress", 0)) / n
                print(f"{workload:12} {impl:9} {per_token:9,.0f} instructions per token, "
                      f"fp_deflate {deflate:8,.0f} ({deflate / per_token:.0%})", flush=True)  # fmt: skip
                if args.top:
                    ex_small, ex_large = functions(small_out, False), functions(large_out, False)
                    per = {f: (c - ex_small.get(f, 0)) / n for f, c in ex_large.items()}
                    for name, count in sorted(per.items(), key=lambda kv: -kv[1])[: args.top]:
                        print(f"    {count:9,.0f}  {name}")


if __name__ == "__main__":
    main()
