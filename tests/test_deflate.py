"""The C kernel's exact deflate (src/agora_token/fp_deflate.c) against the interpreter's zlib.

Tokens must be the same bytes on both backends, and the pure one deflates with ``zlib.compress``,
so fp_deflate.c must write exactly what zlib writes. A bounded differential slice runs here; the
long run (10^7 inputs, in C against the linked zlib) is tools/deflate_diff.sh.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import zlib

import pytest

from agora_token import AccessToken2, _pure

from .common import APP_ID, CERT, payload
from .differential import agree

try:
    from agora_token import _fastpack
except ImportError:  # every test here is c_extension: conftest.py skips or fails it
    _fastpack = None  # type: ignore[assignment]

RTC = ((1, ((1, 600), (2, 600), (3, 600), (4, 600)), ("room", "12345")),)
SLICE = int(os.environ.get("AGORA_TOKEN_DEFLATE_SLICE", "200000"))


# Paths of the C kernel only, run with it installed as the package's kernel (conftest.py).
pytestmark = [pytest.mark.usefixtures("backend"), pytest.mark.c_extension]


def _token_payloads(rng: random.Random, count: int) -> list:
    """007 payloads with random fields, built by the pure kernel's packing (its tokens inflated)."""
    out = []
    for _ in range(count):
        services = []
        for service_type in sorted(rng.sample(range(1, 11), rng.choice([1, 1, 1, 2, 3, 10]))):
            privileges = tuple(
                (k, rng.choice([0, 600, 3600, rng.getrandbits(32)])) for k in range(1, rng.randint(0, 4) + 1)
            )
            fields = ()
            if service_type == 1:
                fields = (rng.choice(["room", "c", "x" * rng.randint(0, 64)]), str(rng.getrandbits(rng.randint(1, 32))))
            elif rng.random() < 0.5:
                fields = ("".join(rng.choice("abcdef0123456789-_ ") for _ in range(rng.randint(0, 40))),)
            services.append((service_type, privileges, fields))
        token = _pure.build_007(
            APP_ID, CERT, rng.getrandbits(32), rng.getrandbits(32), rng.randint(1, 99999999), services
        )
        out.append(payload(token))
    return out


def _pools(rng: random.Random) -> list:
    """Long strings to cut inputs from: uniform bytes, few symbols with skewed frequencies, runs,
    periodic text with noise."""
    uniform = rng.randbytes(1 << 20)
    pools = [uniform]
    for alphabet, weights in (
        (b"ab", [9, 1]),
        (b"abc", [1, 1, 1]),
        (b"abcd", [8, 4, 2, 1]),
        (bytes(range(40)), [2**i for i in range(20)] + [1] * 20),
        (bytes(range(16)), None),
    ):
        pools.append(bytes(rng.choices(alphabet, weights=weights, k=1 << 17)))
    runs = bytearray()
    while len(runs) < 1 << 17:
        runs += bytes([rng.choice(b"\x00\xffab")]) * rng.choice([1, 2, 3, 5, 40, 257, 258, 259, 600])
    pools.append(bytes(runs))
    text = bytearray((b"agora token room 12345 " * 6000)[: 1 << 17])
    for _ in range(3000):
        text[rng.randrange(len(text))] = rng.randrange(256)
    pools.append(bytes(text))
    return pools


def _check(data: bytes) -> None:
    ours = _fastpack._exact_deflate(data)
    if ours != zlib.compress(data):
        raise AssertionError(f"fp_deflate differs from zlib on {len(data)} bytes: {data[:64]!r}...")


def test_the_import_check_chose_the_exact_deflate():
    """zlib proper (not zlib-ng) on this interpreter: the exact path is on, unless switched off."""
    if os.environ.get("AGORA_TOKEN_EXACT_DEFLATE", "1") == "0":
        assert _fastpack.DEFLATE_PATH == "zlib"
    elif _fastpack.DEFLATES_WITH_PYTHON_ZLIB:
        assert _fastpack.DEFLATE_PATH == "python-zlib"
    else:
        assert _fastpack.DEFLATE_PATH == "exact"


def test_probes_and_edges_match_zlib():
    for probe in _fastpack._deflate_probes():
        _check(probe)
    n = _fastpack.EXACT_DEFLATE_MAX
    for data in (b"", b"\x00", b"\x00\x00", b"abc", b"a" * n, b"\xff" * 258, b"x" + b"y" * 258, bytes(range(256)) * 8):
        _check(data[:n])
    assert _fastpack._exact_deflate(b"a" * (n + 1)) is None


def test_every_length_matches_zlib():
    rng = random.Random(14)
    pools = _pools(rng)
    for length in range(_fastpack.EXACT_DEFLATE_MAX + 1):
        for pool in pools:
            start = rng.randrange(len(pool) - length)
            _check(pool[start : start + length])


def test_differential_slice():
    """SLICE inputs (200,000 by default): token payloads and their mutations, cuts of the pools."""
    rng = random.Random(2024)
    pools = _pools(rng)
    payloads = _token_payloads(rng, 3000)
    limit = _fastpack.EXACT_DEFLATE_MAX
    compress, exact = zlib.compress, _fastpack._exact_deflate
    for i in range(SLICE):
        kind = i % 4
        if kind == 0:
            data = payloads[i % len(payloads)]
            if i % 8 == 0:  # a mutation: a byte, a repeated span, a cut
                b = bytearray(data)
                b[rng.randrange(len(b))] = rng.randrange(256)
                at = rng.randrange(len(b))
                b[at:at] = b[rng.randrange(len(b)) :][: rng.randint(3, 300)]
                data = bytes(b[: rng.randint(0, limit)])
        else:
            pool = pools[rng.randrange(len(pools))]
            length = rng.randrange(limit + 1) if i % 16 == 3 else rng.randrange(600)
            start = rng.randrange(len(pool) - length)
            data = pool[start : start + length]
        if exact(data) != compress(data):
            raise AssertionError(f"fp_deflate differs from zlib on input {i} ({len(data)} bytes): {data[:64]!r}...")


def test_server_token_payloads_match_zlib():
    """Payloads as a token server makes them (32-hex-digit app id and channel, a fresh uid, user id
    and salt each), 3,000 RTC, RTM and RTC+RTM ones. fp_deflate settles about nine in ten of the
    RTC and RTC+RTM ones (a fixed block) with its shape bound, without zlib's heap, and the RTM
    ones with its cheap bound: the bytes of both paths against zlib's."""
    rng = random.Random(23)
    hexdigits = "0123456789abcdef"
    for i in range(3000):
        channel = "".join(rng.choice(hexdigits) for _ in range(32))
        uid, user, expire = (
            str(rng.randrange(1, 1 << 32)),
            f"user-{rng.randrange(10**8)}",
            rng.choice([600, 3600, 86400]),
        )
        rtc = (1, tuple((k, expire) for k in range(1, 5)), (channel, uid))
        rtm = (2, ((1, expire),), (user,))
        for services in ((rtc,), (rtm,), (rtc, rtm)):
            token = _pure.build_007(APP_ID, CERT, 1700000000 + i, expire, rng.randint(1, 99999999), services)
            _check(payload(token))


@pytest.mark.thread_unsafe
def test_a_mismatch_at_import_selects_zlib_and_tokens_stay_identical():
    """The import check compares every probe; one differing byte keeps tokens on zlib."""
    services = [(1, ((1, 600),), ("room", "12345")), (2, ((1, 600),), ("u",))]
    exact_token = _fastpack.build_007(APP_ID, CERT, 100, 600, 5, services)
    try:
        assert _fastpack._select_deflate(force_mismatch=True) == (
            "python-zlib" if _fastpack.DEFLATES_WITH_PYTHON_ZLIB else "zlib"
        )
        assert _fastpack.DEFLATE_PATH != "exact"
        zlib_token = _fastpack.build_007(APP_ID, CERT, 100, 600, 5, services)
        each = _fastpack.build_007_each(APP_ID, CERT, 100, 600, 1, ((1, 600),), "c", ["1", "2"])
    finally:
        _fastpack._select_deflate()
    pure_token = _pure.build_007(APP_ID, CERT, 100, 600, 5, services)
    assert zlib_token == pure_token == exact_token
    for token in each:
        parsed = AccessToken2.parse(token)
        assert token == _pure.build_007(
            APP_ID, CERT, 100, 600, parsed.salt, ((1, ((1, 600),), ("c", parsed.services[0].uid)),)
        )


def test_exact_and_zlib_paths_give_the_same_tokens():
    for salt in (1, 5, 99999999):
        assert agree("build_007", APP_ID, CERT, 1700000000, 600, salt, RTC, allowed=())[0] == "ok"


def test_the_environment_switches_the_exact_deflate_off():
    code = "from agora_token import _fastpack; print(_fastpack.DEFLATE_PATH)"
    for value, expected in (("0", {"zlib", "python-zlib"}), ("1", {"exact", "python-zlib"})):
        env = dict(os.environ, AGORA_TOKEN_EXACT_DEFLATE=value)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() in expected
