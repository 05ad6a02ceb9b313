#!/usr/bin/env python3
"""Interleaved microbenchmark: _fastpack.build_007 of an RTC token with the exact deflate
(fp_deflate.c) against the zlib path, in one process, alternating rounds so both see the same load.

    python tools/deflate_bench.py [ROUNDS [TOKENS_PER_ROUND]]
"""

import os
import statistics
import sys
import time
import zlib

from agora_token import _fastpack

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
RTC = ((1, ((1, 600), (2, 600), (3, 600), (4, 600)), ("room", "12345")),)


def use(path: str) -> None:
    os.environ["AGORA_TOKEN_EXACT_DEFLATE"] = "1" if path == "exact" else "0"
    assert _fastpack._select_deflate() == path, path


def round_us(count: int) -> float:
    build = _fastpack.build_007
    start = time.perf_counter()
    for salt in range(1, count + 1):
        build(APP_ID, CERT, 1700000000, 600, salt, RTC)
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    saved = os.environ.get("AGORA_TOKEN_EXACT_DEFLATE")
    times = {"exact": [], "zlib": []}
    try:
        use("exact")
        exact_token = _fastpack.build_007(APP_ID, CERT, 1700000000, 600, 7, RTC)
        use("zlib")
        assert _fastpack.build_007(APP_ID, CERT, 1700000000, 600, 7, RTC) == exact_token
        for _ in range(rounds):
            for path in ("exact", "zlib"):
                use(path)
                times[path].append(round_us(count))
    finally:
        if saved is None:
            os.environ.pop("AGORA_TOKEN_EXACT_DEFLATE", None)
        else:
            os.environ["AGORA_TOKEN_EXACT_DEFLATE"] = saved
        _fastpack._select_deflate()
    payload = zlib.decompress(__import__("base64").b64decode(exact_token[3:]))
    print(f"RTC token, {len(payload)}-byte payload, {rounds} interleaved rounds of {count} tokens")
    for path, values in times.items():
        print(f"  {path:5}: min {min(values):.3f} us  median {statistics.median(values):.3f} us per token")
    print(
        f"  zlib/exact: {min(times['zlib']) / min(times['exact']):.2f}x (min), "
        f"{statistics.median(times['zlib']) / statistics.median(times['exact']):.2f}x (median)"
    )


if __name__ == "__main__":
    main()
