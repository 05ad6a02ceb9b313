#!/usr/bin/env python3
"""Differential deflate fuzzer: the C kernel's exact deflate (fp_deflate.c) against zlib.compress.

Every input, cut to the exact path's limit (``_fastpack.EXACT_DEFLATE_MAX`` bytes), must deflate
to exactly the bytes of the interpreter's ``zlib.compress``; then the token built around it by the
C kernel must equal the pure kernel's (the suite's oracle, tests/differential.py). Any difference
or crash is a finding. The first input byte picks a shape, so short inputs reach the matcher's and
the block choice's corners:

* mode 0: the data itself;
* mode 1: the data repeated to the limit (long matches, the 258 cap, chain limits);
* mode 2: the data mapped onto a 2-4 symbol alphabet (skewed Huffman trees, code-length overflow);
* mode 3: the data as a uid of an RTC token (a real 007 payload around it, built by both kernels).

Run with atheris (libFuzzer), e.g. for five minutes:

    python fuzz/fuzz_deflate.py /tmp/fuzz-deflate -max_total_time=300 -rss_limit_mb=2048

or replay files (no atheris needed):

    python fuzz/fuzz_deflate.py --replay FILES_OR_DIRS
"""

from __future__ import annotations

import zlib

from _harness import APP_ID, CERT, instrumented, main

with instrumented():
    from agora_token import _fastpack
    from tests.differential import agree

LIMIT = _fastpack.EXACT_DEFLATE_MAX


def shape(data: bytes) -> bytes:
    if not data:
        return b""
    mode, body = data[0] % 4, data[1:]
    if mode == 1 and body:
        return (body * (LIMIT // len(body) + 1))[: LIMIT - data[0]]
    if mode == 2:
        symbols = 2 + data[0] % 3
        return bytes(97 + (b % symbols if b % 7 else 0) for b in body)
    return body[:LIMIT]


def TestOneInput(data: bytes) -> None:  # noqa: N802 - libFuzzer's name
    if data and data[0] % 4 == 3:
        uid = data[1:].decode("utf-8", "replace")[:1000]
        services = ((1, ((1, 600), (2, 600)), ("room", uid)),)
        agree("build_007", APP_ID, CERT, 1700000000, 600, 7, services, allowed=())  # must build, alike
        return
    body = shape(data)
    ours = _fastpack._exact_deflate(body)
    if ours != zlib.compress(body):
        raise AssertionError(f"fp_deflate differs from zlib on {len(body)} bytes: {body[:200]!r}")


if __name__ == "__main__":
    main(TestOneInput, "fp_deflate equals zlib.compress on all")
