#!/usr/bin/env python3
"""Where a C-backend 007 token's time goes: its parts timed interleaved, in one process.

    python tools/token_breakdown.py [ROUNDS [CALLS_PER_ROUND]]

For each workload of benchmarks/impls.py (fresh uid / user id per call, as the benchmarks) the
rounds alternate between: the Pythonic call, the drop-in call, the kernel's build_007 called
directly, the kernel's sign_007 (three HMAC-SHA256 + the Python call), fp_deflate of the token's
payload (_exact_deflate, with its Python call), zlib.compress of the same payload, base64 of the
deflated bytes, and an empty kernel call (the Python-call floor). Each part's best round median
is printed; the parts overlap (build_007 contains a sign, a deflate and a base64), so the
table is a breakdown by subtraction, not a sum.
"""

from __future__ import annotations

import base64
import binascii
import os
import statistics
import sys
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import impls  # noqa: E402

from agora_token import _fastpack  # noqa: E402

SERVICES = {  # the kernel's service tuples of each workload's token (fields as the builders pack them)
    "rtc-007": lambda x: ((1, ((1, 3600), (2, 3600), (3, 3600), (4, 3600)), (impls.CHANNEL, str(x))),),
    "rtm-007": lambda x: ((2, ((1, 3600),), (x,)),),
    "rtc+rtm-007": lambda x: (
        (1, ((1, 3600), (2, 3600), (3, 3600), (4, 3600)), (impls.CHANNEL, str(x[0]))),
        (2, ((1, 3600),), (x[1],)),
    ),
}


def parts(workload: str, n: int):
    A, C = impls.APP_ID, impls.APP_CERTIFICATE
    pythonic = impls.batch_function(workload, "agora-token C, Pythonic")
    compat = impls.batch_function(workload, "agora-token C, compat")
    services = SERVICES[workload]
    build, sign, exact = _fastpack.build_007, _fastpack.sign_007, _fastpack._exact_deflate
    b64, ts = binascii.b2a_base64, int(time.time())

    def kernel(xs):
        for i, x in enumerate(xs):
            build(A, C, ts, 3600, i + 1, services(x))

    def services_only(xs):  # the tuple building kernel() does around each call, to subtract
        for x in xs:
            services(x)

    sample = [zlib.decompress(base64.b64decode(build(A, C, ts, 3600, i + 1, services(x))[3:]))
              for i, x in enumerate(impls.make_inputs(workload, n))]  # fmt: skip
    infos = [p[34:] for p in sample]
    deflated = [zlib.compress(p) for p in sample]

    def signs(_):
        for i, info in enumerate(infos):
            sign(C, ts, i + 1, info)

    def exacts(_):
        for p in sample:
            exact(p)

    def zlibs(_):
        for p in sample:
            zlib.compress(p)

    def b64s(_):
        for d in deflated:
            b64(d, newline=False)

    noop = len  # a C call of the cheapest kind

    def calls(_):
        for p in sample:
            noop(p)

    return {
        "Pythonic call": pythonic, "drop-in call": compat, "build_007 (+ services tuple)": kernel,
        "  services tuple alone": services_only, "sign_007 (3 HMAC) + call": signs,
        "fp_deflate of the payload + call": exacts, "zlib.compress of the payload + call": zlibs,
        "base64 of the deflated bytes + call": b64s, "empty C call (len)": calls,
    }  # fmt: skip


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    assert _fastpack.DEFLATE_PATH == "exact", _fastpack.DEFLATE_PATH
    for workload in SERVICES:
        fns = parts(workload, n)
        times = {name: [] for name in fns}
        for r in range(rounds):
            names = list(fns) if r % 2 == 0 else list(reversed(fns))
            for name in names:
                xs = impls.make_inputs(workload, n)
                t0 = time.perf_counter()
                fns[name](xs)
                times[name].append((time.perf_counter() - t0) / n * 1e6)
        payload = len(zlib.decompress(base64.b64decode(impls.one_function(workload, "agora-token C, Pythonic")(
            impls.make_inputs(workload, 1)[0])[3:])))  # fmt: skip
        print(f"{workload} ({payload}-byte payload), {rounds} interleaved rounds x {n} calls: µs per call")
        for name, values in times.items():
            print(f"  {name:38} median {statistics.median(values):6.2f}  min {min(values):6.2f}")


if __name__ == "__main__":
    main()
