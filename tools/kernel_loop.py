#!/usr/bin/env python3
"""A build/parse/sign loop over every C-kernel entry point, for valgrind and the sanitizers.

Exercises the stack and the heap paths (small and large tokens), every parse error, the inflate
cap, and per-thread state (threads that start, use the kernel and exit, so the TLS destructor runs).

    python tools/kernel_loop.py [ROUNDS]
"""

from __future__ import annotations

import base64
import sys
import threading
import zlib

from agora_token import TokenError
from agora_token import _fastpack as k
from agora_token.services import LAYOUTS

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"


def one_round(i: int) -> None:
    small = [(1, ((1, 600), (2, 600)), ("channel", str(i))), (2, ((1, 60),), ("user",)),
             (7, ((1, 5),), ("room", "user", -2)), (8, ((1, 5),), ("u", 1, 0, 1, 0, 2, "a", "b"))]  # fmt: skip
    large = [(2, ((1, 60),), ("x" * 5000,)), (5, (), ("\u00e9" * 3000,))]  # heap pack/deflate/inflate
    for services in (small, large):
        token = k.build_007(APP_ID, CERT, 1_700_000_000 + i, 600, None, services)
        signature, info, *_ = k.parse_007(token, LAYOUTS)
        assert signature == k.sign_007(CERT, k.parse_007(token, LAYOUTS)[3], k.parse_007(token, LAYOUTS)[5], info)
    t006 = k.build_006(
        APP_ID, CERT, "c" * (i % 50 + 1), str(i), None, 2_000_000_000, tuple((p, i) for p in range(i % 700))
    )
    parsed = k.parse_006(t006)
    assert parsed[4] and k.sign_006(CERT, APP_ID, "c", "1", parsed[4])
    k.crc32("x" * (i % 5000))
    k.random_salt()
    # the one-service call (a short uid, a long one on the heap) and the many-token call
    for uid in (str(i), "\u00e9" * 2000):
        k.build_007_user(APP_ID, CERT, 1_700_000_000, 600, None, 1, ((1, 600), (2, 600)), "room", uid)
    uids = [str(u) for u in range(i % 300)] + ["\u00e9" * 2000]
    assert len(k.build_007_each(APP_ID, CERT, 1_700_000_000, 600, 1, ((1, 600),), "room", uids)) == len(uids)
    for bad in (
        "007" + base64.b64encode(zlib.compress(b"\0" * (2 << 20))).decode(),
        token[:-9],
        "007!!",
        "007" + base64.b64encode(zlib.compress(b"\1\0\1")).decode(),
        t006[:-4],
        "006" + APP_ID + "////",
    ):
        try:
            k.parse_007(bad, LAYOUTS) if bad.startswith("007") else k.parse_006(bad)
        except TokenError:
            pass
    for bad_build in (lambda: k.build_007("x" * 70000, CERT, 1, 1, 1, []),
                      lambda: k.build_007(APP_ID, CERT, 1, 1, 1, [(2, (), ("y" * 70000,))]),
                      lambda: k.build_006(APP_ID, CERT, "c", "u", 1, 1, ((1, -1),)),
                      lambda: k.build_007_user(APP_ID, CERT, 1, 1, 1, 1, (), "c", "y" * 70000),
                      lambda: k.build_007_each(APP_ID, CERT, 1, 1, 1, (), "c", ["u", "y" * 70000])):  # fmt: skip
        try:
            bad_build()
        except ValueError:
            pass


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for i in range(rounds):
        one_round(i)
    threads = [threading.Thread(target=lambda: [one_round(j) for j in range(5)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"kernel loop: {rounds} rounds + 8 short-lived threads, ok")


if __name__ == "__main__":
    main()
