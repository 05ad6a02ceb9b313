"""007 RTC token throughput with 1 thread vs 2 threads: does the C kernel release the GIL?

    python benchmarks/threads.py                 # ~20 s: 3 repeats x (1 and 2 threads) x 3 paths x 1 s
    python benchmarks/threads.py --duration 2 --repeats 5
    python benchmarks/threads.py --plot          # also the docs' chart and table (benchmarks/charts.py)

Paths measured (each call builds one 007 RTC token from a fresh uid):

- ``C, Pythonic``: ``agora_token.build_rtc_token`` on the C backend;
- ``C, kernel``: ``agora_token._fastpack.build_007`` called directly with ready wire tuples;
- ``pure, Pythonic`` (reference): the same API on the pure-Python backend, which holds the GIL;
- the machine's ceiling: the bare kernel loop in 1 and in 2 *processes*, which share no GIL. On a
  shared VM this varies (two vCPUs may land on one physical core); a thread ratio means something
  only when this ceiling is near 2.

Each measurement runs the threads for ``--duration`` seconds after a common start (a barrier) and
counts tokens. 1-thread and 2-thread runs alternate, ``--repeats`` times; the best throughput of
each is kept and the ratio is 2-thread / 1-thread throughput (2.0 would be perfect scaling).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import sys
import threading
import time
from typing import Callable

from machine_load import busy_seconds  # next to this script, on sys.path when it is run

import agora_token as at
from agora_token import _backend, _pure

try:
    from agora_token import _fastpack
except ImportError:
    _fastpack = None  # type: ignore[assignment]

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
PRIVILEGES = ((1, 3600), (2, 3600), (3, 3600), (4, 3600))  # join + publish audio/video/data


CEILING = "machine ceiling: C kernel in separate processes"
GOAL = 1.8  # issue 14: 2 threads vs 1 on the C path


def pythonic_worker(first_uid: int) -> Callable[[int], None]:
    build, role = at.build_rtc_token, at.RtcRole.PUBLISHER
    uids = itertools.count(first_uid)

    def work(n: int) -> None:
        for uid in itertools.islice(uids, n):
            build(APP_ID, APP_CERTIFICATE, CHANNEL, uid=uid, role=role, expire=3600)

    return work


def kernel_worker(first_uid: int) -> Callable[[int], None]:
    assert _fastpack is not None
    build, ts = _fastpack.build_007, int(time.time())
    uids = itertools.count(first_uid)

    def work(n: int) -> None:
        for uid in itertools.islice(uids, n):
            build(APP_ID, APP_CERTIFICATE, ts, 3600, uid % 99_999_999 + 1,
                  ((1, PRIVILEGES, (CHANNEL, str(uid))),))  # fmt: skip

    return work


def own_seconds() -> float:
    t = os.times()
    return t.user + t.system


def throughput(
    make_worker: Callable[[int], Callable[[int], None]], threads: int, duration: float
) -> tuple[float, float]:
    """Tokens per second of ``threads`` threads running together for ``duration`` seconds, and the
    CPU (in cores) that other processes used meanwhile: above ~0.2, two threads cannot have had two
    cores of this 2-CPU machine and the ratio says nothing about the GIL."""
    counts = [0] * threads
    workers = [make_worker(1 + 100_000_000 * (k + 1)) for k in range(threads)]
    for w in workers:
        w(200)  # warm up each worker (and its thread-local kernel state) outside the timing
    barrier = threading.Barrier(threads + 1)
    ends: list[float] = [0.0] * threads
    deadline = [0.0]

    def run(k: int) -> None:
        work = workers[k]
        barrier.wait()
        n = 0
        while time.perf_counter() < deadline[0]:
            work(100)
            n += 100
        counts[k] = n
        ends[k] = time.perf_counter()

    pool = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    busy0, own0 = busy_seconds(), own_seconds()
    start = time.perf_counter()
    deadline[0] = start + duration
    barrier.wait()
    for t in pool:
        t.join()
    wall = max(ends) - start
    others = max(0.0, (busy_seconds() - busy0) - (own_seconds() - own0)) / wall
    return sum(counts) / wall, others


def _process_run(start_at: float, duration: float, first_uid: int, results: multiprocessing.Queue[int]) -> None:
    work = kernel_worker(first_uid)
    work(200)
    while time.time() < start_at:
        pass
    n, deadline = 0, time.perf_counter() + duration
    while time.perf_counter() < deadline:
        work(100)
        n += 100
    results.put(n)


def process_throughput(processes: int, duration: float) -> tuple[float, float]:
    """Like ``throughput`` for the bare C kernel, but in separate processes: no GIL is shared, so
    this is what the machine itself gives two CPU-bound workers (hypervisor and cache effects
    included). The thread ratios can only be judged against it."""
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    results = ctx.Queue()
    start_at = time.time() + 0.5  # after every process has started and warmed up
    pool = [
        ctx.Process(target=_process_run, args=(start_at, duration, 1 + 100_000_000 * (k + 1), results))
        for k in range(processes)
    ]
    for proc in pool:
        proc.start()
    busy0, children0, wall0 = busy_seconds(), _children_seconds(), time.perf_counter()
    total = sum(results.get() for _ in pool)
    for proc in pool:
        proc.join()
    wall = time.perf_counter() - wall0
    others = max(0.0, (busy_seconds() - busy0) - (_children_seconds() - children0)) / wall
    return total / duration, others


def _children_seconds() -> float:
    t = os.times()
    return t.children_user + t.children_system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=1.0, help="seconds per measurement (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating 1/2-thread repeats (default 3)")
    parser.add_argument("--no-pure", action="store_true", help="skip the pure-Python reference row")
    parser.add_argument("--plot", action="store_true", help="also write the docs' chart and table (charts.py)")
    args = parser.parse_args()
    if _fastpack is None:
        print("the C extension agora_token._fastpack is not built", file=sys.stderr)
        return 2

    paths: dict[str, tuple] = {
        "C backend, Pythonic API (build_rtc_token)": (_fastpack, pythonic_worker),
        "C kernel (_fastpack.build_007)": (_fastpack, kernel_worker),
    }
    if not args.no_pure:
        paths["pure backend, Pythonic API (reference)"] = (_pure, pythonic_worker)

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, GIL switch interval "
          f"{sys.getswitchinterval() * 1000:.0f} ms; {args.repeats} repeats x {args.duration:g} s; "
          "best of each")  # fmt: skip
    print()
    print(
        "| 007 RTC token path | 1 thread, tokens/s | 2 threads, tokens/s | 2 threads / 1 thread "
        "| other processes' CPU during the best 2-thread run |"
    )
    print("|---|---:|---:|---:|---:|")
    saved = (_backend.kernel, _backend.name)
    ratios: dict[str, float] = {}
    others: dict[str, float] = {}
    rows: list[dict[str, object]] = []  # for --plot
    try:
        for label, (kernel, make_worker) in paths.items():
            _backend.kernel = kernel
            best = {1: (0.0, 0.0), 2: (0.0, 0.0)}
            for _ in range(args.repeats):
                for n in (1, 2):
                    best[n] = max(best[n], throughput(make_worker, n, args.duration))
            ratios[label] = best[2][0] / best[1][0]
            others[label] = best[2][1]
            rows.append({"path": label, "one": best[1][0], "two": best[2][0], "others": best[2][1]})
            print(f"| {label} | {best[1][0]:,.0f} | {best[2][0]:,.0f} | **{ratios[label]:.2f}×** "
                  f"| {best[2][1]:.2f} cores |", flush=True)  # fmt: skip
        # The machine's own ceiling, measured the same way with processes instead of threads.
        best = {1: (0.0, 0.0), 2: (0.0, 0.0)}
        for _ in range(args.repeats):
            for n in (1, 2):
                best[n] = max(best[n], process_throughput(n, args.duration))
        ceiling = best[2][0] / best[1][0]
        rows.append({"path": CEILING, "one": best[1][0], "two": best[2][0], "others": best[2][1]})
        print(f"| {CEILING} | {best[1][0]:,.0f} (1 process) | {best[2][0]:,.0f} (2 processes) | **{ceiling:.2f}×** "
              f"| {best[2][1]:.2f} cores |", flush=True)  # fmt: skip
    finally:
        _backend.kernel, _backend.name = saved
    print()
    print(
        f"- machine ceiling (2 processes, no shared GIL): {ceiling:.2f}×"
        + ("" if ceiling >= GOAL else f": below {GOAL}×, so no thread ratio can reach the goal on this machine now")
    )
    for label, ratio in ratios.items():
        if label.startswith("C"):
            busy = " (but other processes took a core: rerun on a quiet machine)" if others[label] > 0.2 else ""
            print(f"- {label}: {ratio:.2f}× (goal ≥ {GOAL}×) {'OK' if ratio >= GOAL else 'MISSED'}{busy}")
    if args.plot:
        import charts  # matplotlib only when asked for (the other build's half may be drawn without it)

        for path in charts.threads({"rows": rows, "duration": args.duration, "repeats": args.repeats}):
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
