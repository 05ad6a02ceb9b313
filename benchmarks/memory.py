"""Resident memory while building 10^6 tokens on each backend: it must stay flat.

    python benchmarks/memory.py                  # 10^6 tokens on C, then on pure (~30 s in all)
    python benchmarks/memory.py --tokens 200000 --backend c

Each backend runs in its own fresh child process (so one backend's allocations do not hide
another's). The child builds tokens in a fixed rotation of the common kinds, each from a fresh
uid / user id — 007 RTC by uid through the Pythonic API, 007 RTC through the compat builder, 006 RTC,
007 RTM, 007 RTC+RTM — and reads VmRSS from /proc/self/status every 10^5 tokens. The table gives RSS
at 10^5 tokens (everything warmed up), at the end, and the growth in between; a leak of even a few
bytes per token shows as megabytes here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
STEP = 100_000
FLAT_KIB = 1024  # growth under 1 MiB from 10^5 to 10^6 tokens counts as flat


def rss_kib() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # peak, in KiB on Linux


def child(backend: str, tokens: int) -> None:
    import agora_token as at
    from agora_token import _backend, _pure
    from agora_token.compat.RtcTokenBuilder import RtcTokenBuilder as Rtc006
    from agora_token.compat.RtcTokenBuilder2 import RtcTokenBuilder as Rtc007

    if backend == "c":
        from agora_token import _fastpack

        _backend.kernel, _backend.name = _fastpack, "c"
    else:
        _backend.kernel, _backend.name = _pure, "python"

    A, C, CH, R = APP_ID, APP_CERTIFICATE, CHANNEL, at.RtcRole.PUBLISHER
    ts006 = int(time.time()) + 3600

    def batch(first: int, n: int) -> None:
        # Five kinds in rotation; n is a multiple of 5.
        for uid in range(first, first + n, 5):
            at.build_rtc_token(A, C, CH, uid=uid, role=R, expire=3600)
            Rtc007.build_token_with_uid(A, C, CH, uid + 1, 1, 3600, 3600)
            Rtc006.buildTokenWithUid(A, C, CH, uid + 2, 1, ts006)
            at.build_rtm_token(A, C, f"user-{uid + 3}", expire=3600)
            at.build_rtc_rtm_token(A, C, CH, uid=uid + 4, rtm_user_id=f"user-{uid + 4}", expire=3600)

    samples: list[list[float]] = [[0, rss_kib(), 0.0]]
    start = time.perf_counter()
    done = 0
    while done < tokens:
        n = min(STEP, tokens - done)
        batch(1_000_000 + done, n)
        done += n
        samples.append([done, rss_kib(), time.perf_counter() - start])
    print(json.dumps({"backend": backend, "samples": samples}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=1_000_000, help="tokens per backend (default 10^6)")
    parser.add_argument("--backend", choices=("c", "python", "both"), default="both")
    parser.add_argument("--child", choices=("c", "python"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tokens % STEP or args.tokens < 2 * STEP:
        parser.error(f"--tokens must be a multiple of {STEP} and at least {2 * STEP}")
    if args.child:
        child(args.child, args.tokens)
        return 0

    backends = ("c", "python") if args.backend == "both" else (args.backend,)
    print(f"Python {sys.version.split()[0]}; {args.tokens:,} tokens per backend (RTC 007 Pythonic, RTC 007 compat, "
          f"RTC 006, RTM 007, RTC+RTM 007 in rotation); VmRSS every {STEP:,} tokens")  # fmt: skip
    print()
    print("| backend | RSS at 10^5 tokens | RSS at end | growth | time | RSS samples (MiB) |")
    print("|---|---:|---:|---:|---:|---|")
    verdicts = []
    for backend in backends:
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--child", backend, "--tokens", str(args.tokens)],
            capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            print(f"| {backend} | failed (exit {proc.returncode}) | | | | |")
            verdicts.append(f"- {backend}: FAILED to run")
            continue
        samples = json.loads(proc.stdout.strip().splitlines()[-1])["samples"]
        at_1e5 = next(s for s in samples if s[0] == STEP)
        end = samples[-1]
        growth = end[1] - at_1e5[1]
        trail = " ".join(f"{s[1] / 1024:.1f}" for s in samples[1:])
        label = "C" if backend == "c" else "pure"
        print(f"| {label} | {at_1e5[1] / 1024:.1f} MiB | {end[1] / 1024:.1f} MiB | {growth:+,} KiB | "
              f"{end[2]:.1f} s | {trail} |", flush=True)  # fmt: skip
        ok = growth < FLAT_KIB
        per_token = growth * 1024 / (end[0] - STEP)
        verdicts.append(f"- {label}: {growth:+,} KiB from {STEP:,} to {int(end[0]):,} tokens "
                        f"({per_token:+.3f} bytes/token) {'flat: OK' if ok else 'GROWS'}")  # fmt: skip
    print()
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
