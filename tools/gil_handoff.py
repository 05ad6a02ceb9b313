#!/usr/bin/env python3
"""How well 2 threads can scale calls that release the GIL, by call length, on this machine.

    python tools/gil_handoff.py [--duration S]

A C busy loop (compiled here with ``cc``, called through ctypes, which releases the GIL for the
call) stands for an ideal C extension call: no shared state, almost no work under the GIL. Each
length is timed in 1 and in 2 threads; the ratio is what any GIL-releasing call of that length can
reach here, whatever its code. A thread that finds the GIL taken sleeps until it is handed over, and
on a VM whose idle vCPUs halt, each such wake-up costs microseconds: short calls cannot scale.
An RTC token of the C backend is a ~6 µs call (benchmarks/threads.py measures its ratio).
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable

SOURCE = "unsigned long long spin(unsigned long long n) { volatile unsigned long long x = 0; " \
         "for (unsigned long long i = 0; i < n; i++) x += i; return x; }\n"  # fmt: skip


def calls_per_second(threads: int, call: Callable[[], object], duration: float) -> float:
    counts = [0] * threads
    stop = threading.Event()
    barrier = threading.Barrier(threads + 1)

    def run(k: int) -> None:
        barrier.wait()
        n = 0
        while not stop.is_set():
            for _ in range(50):
                call()
            n += 50
        counts[k] = n

    pool = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(duration)
    stop.set()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=0.5, help="seconds per measurement (default 0.5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, lib = os.path.join(tmp, "spin.c"), os.path.join(tmp, "libspin.so")
        with open(src, "w") as f:
            f.write(SOURCE)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", src, "-o", lib], check=True)
        spin = ctypes.CDLL(lib).spin
        spin.argtypes, spin.restype = [ctypes.c_ulonglong], ctypes.c_ulonglong
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; best of 3 runs of {args.duration:g} s each")
        print()
        print("| GIL-releasing C call (ctypes busy loop) | µs per call, 1 thread | 2 threads / 1 thread |")
        print("|---|---:|---:|")
        for n in (1000, 3000, 10000, 30000):
            call = functools.partial(spin, n)
            one = max(calls_per_second(1, call, args.duration) for _ in range(3))
            two = max(calls_per_second(2, call, args.duration) for _ in range(3))
            print(f"| {n:,} iterations | {1e6 / one:.2f} | {two / one:.2f}× |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
