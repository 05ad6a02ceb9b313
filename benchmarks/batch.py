"""Batch API: build_rtc_tokens (one call, many uids) against build_rtc_token in a loop, C backend.

    python benchmarks/batch.py [--tokens N] [--repeats R]

Prints tokens/s both ways and their ratio (goal: batch >= 1.3x the per-call rate). Every token of
the last batch is parsed and verified. Best of R repeats; bounded by N x R tokens.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import agora_token as at
from agora_token import _backend

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if _backend.name != "c":
        print("the C backend is not installed: batch threads would not run in parallel")
        return 1
    best_single = best_batch = float("inf")
    tokens = []
    for repeat in range(args.repeats):
        uids = list(range(1 + repeat * args.tokens, 1 + (repeat + 1) * args.tokens))
        start = time.perf_counter()
        for uid in uids:
            at.build_rtc_token(APP_ID, CERT, "bench", uid=uid, expire=3600)
        best_single = min(best_single, time.perf_counter() - start)
        start = time.perf_counter()
        tokens = at.build_rtc_tokens(APP_ID, CERT, "bench", uids, expire=3600)
        best_batch = min(best_batch, time.perf_counter() - start)
    assert all(at.AccessToken2.parse(t).verify(CERT) for t in tokens)
    single, batch = args.tokens / best_single, args.tokens / best_batch
    ratio = batch / single
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.tokens:,} tokens, best of {args.repeats}\n")
    print("| 007 RTC tokens | tokens/s |\n|---|---:|")
    print(f"| build_rtc_token per call | {single:,.0f} |\n| build_rtc_tokens, one call | {batch:,.0f} |\n")
    print(f"- batch / per call: {ratio:.2f}x (goal >= 1.3x) {'OK' if ratio >= 1.3 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
