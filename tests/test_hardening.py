"""Hostile input, limits, threads, forks and secrets: the package holds (see README "Reliability").

* Differential parse fuzzing (hypothesis) straight on both kernels: for any input ``_pure`` and
  ``_fastpack`` either both raise ``TokenError`` with the same message or both return equal results
  (tests/differential.py, the oracle the fuzzers share); nothing else escapes, through the kernels
  or the model (parse, verify, describe).
* Limits: every length read is bounded by what is left, inflation is capped, and values that do not
  fit their wire field raise ``ValueError`` (kernels and model) instead of being truncated.
* Threads: 8 threads build, parse and verify at once; every token is checked.
* Fork: children (os.fork, multiprocessing "fork", a pre-fork worker pool) never share the salt
  stream of their parent or a sibling.
* Secrets: the certificate is never in a repr/str, an exception, a log record or CLI output, and
  signatures are compared in constant time.

Runs on both kernels (every test requests the ``backend`` fixture); the kernel-level tests compare
both every time. The longer runs (atheris, sanitizers, valgrind) live in ``fuzz/`` and ``tools/``.
"""

from __future__ import annotations

import ast
import base64
import hmac
import json
import logging
import multiprocessing
import os
import signal
import struct
import threading
import traceback
import zlib
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import agora_token as at
from agora_token import (
    AccessToken, AccessToken2, Rtm2Permissions, ServiceApaas, ServiceConvoAI, ServiceFpa, ServiceRtc, ServiceRtm,
    ServiceRtm2, ServiceStt, TokenError, _backend, _pure, legacy,
)  # fmt: skip
from agora_token.describe import describe, render
from agora_token.services import LAYOUTS

from .differential import agree
from .tokens import UNKNOWN_SERVICE_TYPE, every_service, payload

try:
    from agora_token import _fastpack
except ImportError:  # the conftest fixture skips (or fails) the "c" runs
    _fastpack = None  # type: ignore[assignment]

try:  # pytest-run-parallel (free-threaded CPython): keep process-global tests on one thread
    import pytest_run_parallel  # noqa: F401

    thread_unsafe = pytest.mark.thread_unsafe
except ImportError:

    def thread_unsafe(func: Callable) -> Callable:  # type: ignore[misc]
        return func


pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
SECRETS = (CERT, CERT.lower(), CERT.upper())
FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

# The differential tests compare the two kernels whichever one the model runs on.
needs_c = pytest.mark.usefixtures("c_kernel")


def _no_secret(*texts: object) -> None:
    for text in texts:
        low = str(text).lower()
        assert CERT.lower() not in low, f"the App Certificate leaked: {str(text)[:200]!r}"


# --------------------------------------------------------------------------------------------------
# Real tokens: the seeds of the differential fuzzing (the same set fuzz/make_corpus.py writes)


def real_tokens() -> List[str]:
    """007 tokens (one per service, all services, an unknown type) and 006 tokens, built by _pure."""
    tokens = []
    for service in every_service():
        wire = service.to_wire()
        tokens.append(_pure.build_007(APP_ID, CERT, 1700000000, 3600, 7, [wire]))
    tokens.append(_pure.build_007(APP_ID, CERT, 1, 86400, 99999999, [s.to_wire() for s in every_service()]))
    unknown = (UNKNOWN_SERVICE_TYPE, ((1, 5),), ("x",))
    tokens.append(_pure.build_007(APP_ID, CERT, 5, 60, 3, [(1, ((1, 5),), ("c", "1")), unknown]))
    tokens.append(_pure.build_006(APP_ID, CERT, "channel", "1234", 3, 2_000_000_000, ((1, 5), (2, 6), (1000, 7))))
    tokens.append(_pure.build_006(APP_ID, CERT, "c", "", 1, 1, ()))
    return tokens


REAL = real_tokens()
REAL_007 = [t for t in REAL if t.startswith("007")]
REAL_006 = [t for t in REAL if t.startswith("006")]


def check_differential(token: object) -> None:
    """Both kernels agree on ``token`` (as 007 and as 006), and the model raises only TokenError."""
    agree("parse_007", token, LAYOUTS)
    agree("parse_006", token)
    # The model on the kernel under test: parse, then verify and describe a parsed token.
    for cls in (AccessToken2, AccessToken):
        try:
            parsed = cls.parse(token)  # type: ignore[arg-type]
        except TokenError:
            continue
        if cls is AccessToken2:
            assert parsed.verify(CERT) in (True, False)
        else:
            assert parsed.verify(CERT, "channel", 1234) in (True, False)
        repr(parsed)
    if isinstance(token, str):
        try:
            render(describe(token, app_certificate=CERT, channel="channel", uid=1234, now=1700000000))
        except TokenError:
            pass


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """A real token with characters replaced, inserted, deleted, or cut short."""
    token = list(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(token) - 1, 0)))
        char = draw(st.one_of(st.sampled_from(B64_CHARS), st.characters()))
        if op == "replace" and token:
            token[pos] = char
        elif op == "insert":
            token.insert(pos, char)
        elif op == "delete" and token:
            del token[pos]
        else:
            del token[pos:]
    return "".join(token)


@st.composite
def mutated_payload(draw: st.DrawFn) -> str:
    """A real token whose decoded payload has bytes flipped, set, inserted or cut, then re-encoded.

    Past the base64 and zlib layers, so the readers themselves are exercised.
    """
    token = draw(st.sampled_from(REAL))
    if token.startswith("007"):
        content = bytearray(payload(token))
    else:
        content = bytearray(base64.b64decode(token[35:]))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set16", "insert", "truncate"]))
        pos = draw(st.integers(0, max(len(content) - 1, 0)))
        if op == "flip" and content:
            content[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set16" and len(content) >= 2:
            pos = min(pos, len(content) - 2)
            content[pos : pos + 2] = struct.pack("<H", draw(st.sampled_from([0, 1, 2, 0x7FFF, 0x8000, 0xFFFF])))
        elif op == "insert":
            content[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            del content[pos:]
    if token.startswith("007"):
        return "007" + _b64(zlib.compress(bytes(content)))
    return token[:35] + _b64(bytes(content))


@st.composite
def random_token_text(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["", "007", "006", "006" + APP_ID, "007eJ", "008"]))
    return prefix + draw(st.one_of(st.text(max_size=80), st.text(alphabet=B64_CHARS, max_size=120)))


@st.composite
def random_zlib_token(draw: st.DrawFn) -> str:
    payload = draw(st.binary(max_size=300))
    level = draw(st.integers(0, 9))
    wbits = draw(st.sampled_from([15, 9, -15, 31]))  # zlib, small window, raw deflate, gzip
    packer = zlib.compressobj(level, zlib.DEFLATED, wbits)
    data = packer.compress(payload) + packer.flush()
    if draw(st.booleans()):
        return "007" + _b64(data)
    return "006" + APP_ID + _b64(payload)


@needs_c
@FAST
@given(st.one_of(random_token_text(), mutated_text(), mutated_payload(), random_zlib_token()))
@example("007" + _b64(zlib.compress(b"")))
@example("006" + APP_ID)
@example("006" + "\u00e9" * 32 + "AAAA")
@example("007" + "A" * 4)
def test_differential_parse_fuzz(token):
    check_differential(token)


@needs_c
@pytest.mark.parametrize("value", [None, b"007", bytearray(b"006"), 7, 7.0, ["007"], object()])
def test_differential_non_str_inputs(value):
    check_differential(value)


@needs_c
def test_differential_every_16bit_overwrite_of_real_payloads():
    """Every u16 in every real payload set to 0, 0x7FFF and 0xFFFF: lengths and counts that lie."""
    for token in REAL:
        is_007 = token.startswith("007")
        content = payload(token) if is_007 else base64.b64decode(token[35:])
        for pos in range(len(content) - 1):
            for value in (0, 0x7FFF, 0xFFFF):
                data = content[:pos] + struct.pack("<H", value) + content[pos + 2 :]
                check_differential("007" + _b64(zlib.compress(data)) if is_007 else token[:35] + _b64(data))


@needs_c
def test_differential_every_truncation_of_real_payloads():
    for token in REAL:
        is_007 = token.startswith("007")
        content = payload(token) if is_007 else base64.b64decode(token[35:])
        for cut in range(len(content)):
            data = content[:cut]
            check_differential("007" + _b64(zlib.compress(data)) if is_007 else token[:35] + _b64(data))


# --------------------------------------------------------------------------------------------------
# Limits


# Each case and the message both kernels give for it, in the project's words on every Python: the
# field's name and the limit of its wire width (SPEC §1: u16 lengths and counts, u32 times and salts,
# map<u16,u32> privileges, 16-bit words in service fields).
U16 = "from 0 to 65535"
U32 = "from 0 to 4294967295"
BYTES = "must be at most 65535 bytes of UTF-8"
KERNEL_LIMITS: Dict[str, Tuple[str, Callable[[Any], Any]]] = {
    "007 app_id 65536 bytes": (f"app_id {BYTES}", lambda k: k.build_007("x" * 65536, CERT, 1, 1, 1, [])),
    "007 field 65536 bytes": (
        f"service field {BYTES}",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(2, ((1, 1),), ("x" * 65536,))]),
    ),
    "007 field 32768 two-byte chars": (
        f"service field {BYTES}",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(2, (), ("\u00e9" * 32768,))]),
    ),
    "007 65536 services": (
        "service count must be at most 65535",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(9, (), ())] * 65536),
    ),
    "007 65536 privileges": (
        "privilege count must be at most 65535",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(9, tuple((i, 1) for i in range(65536)), ())]),
    ),
    "007 privilege value 2**32": (
        f"privilege value must be {U32}",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(9, ((1, 2**32),), ())]),
    ),
    "007 privilege id 65536": (
        f"privilege id must be {U16}",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(9, ((65536, 1),), ())]),
    ),
    "007 privilege id -1": (
        f"privilege id must be {U16}",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(9, ((-1, 1),), ())]),
    ),
    "007 service type 65536": (
        f"service type must be {U16}",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(65536, (), ())]),
    ),
    "007 issue_ts 2**32": (f"issue_ts must be {U32}", lambda k: k.build_007(APP_ID, CERT, 2**32, 1, 1, [(9, (), ())])),
    "007 expire -1": (f"expire must be {U32}", lambda k: k.build_007(APP_ID, CERT, 1, -1, 1, [(9, (), ())])),
    "007 salt 2**64": (f"salt must be {U32}", lambda k: k.build_007(APP_ID, CERT, 1, 1, 2**64, [(9, (), ())])),
    "007 salt -2**70": (f"salt must be {U32}", lambda k: k.build_007(APP_ID, CERT, 1, 1, -(2**70), [(9, (), ())])),
    "007 word 65536": (
        "service field must be from -32768 to 65535",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(7, (), ("a", "b", 65536))]),
    ),
    "007 word -32769": (
        "service field must be from -32768 to 65535",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(7, (), ("a", "b", -32769))]),
    ),
    "007 first bad value wins": (
        f"expire must be {U32}",
        lambda k: k.build_007(APP_ID, CERT, 1, 2**32, 2**32, [(65536, (), ())]),
    ),
    "006 message 65536 bytes": (
        "006 message must be at most 65535 bytes",
        lambda k: k.build_006(APP_ID, CERT, "c", "u", 1, 1, tuple((i, 1) for i in range(10921))),
    ),
    "006 65536 privileges": (
        "privilege count must be at most 65535",
        lambda k: k.build_006(APP_ID, CERT, "c", "u", 1, 1, tuple((i, 1) for i in range(65536))),
    ),
    "006 salt -1": (f"salt must be {U32}", lambda k: k.build_006(APP_ID, CERT, "c", "u", -1, 1, ())),
    "006 ts 2**32": (f"ts must be {U32}", lambda k: k.build_006(APP_ID, CERT, "c", "u", 1, 2**32, ())),
    "006 privilege value 2**32": (
        f"privilege value must be {U32}",
        lambda k: k.build_006(APP_ID, CERT, "c", "u", 1, 1, ((1, 2**32),)),
    ),
    "sign_007 salt 2**32": (f"salt must be {U32}", lambda k: k.sign_007(CERT, 1, 2**32, b"")),
}

KERNEL_TYPES: Dict[str, Tuple[str, Callable[[Any], Any]]] = {
    "007 issue_ts float": ("issue_ts must be an int, not float", lambda k: k.build_007(APP_ID, CERT, 1.0, 1, 1, [])),
    "007 privilege value str": (
        "privilege value must be an int, not str",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(9, ((1, "1"),), ())]),
    ),
    "007 word float": (
        "service field must be an int, not float",
        lambda k: k.build_007(APP_ID, CERT, 1, 1, 1, [(7, (), ("a", "b", 1.5))]),
    ),
    "006 ts str": ("ts must be an int, not str", lambda k: k.build_006(APP_ID, CERT, "c", "u", 1, "1", ())),
}


@pytest.mark.parametrize("case", sorted(KERNEL_LIMITS))
def test_kernel_refuses_values_that_do_not_fit_their_field(kernel, case):
    message, build = KERNEL_LIMITS[case]
    with pytest.raises(ValueError) as raised:
        build(kernel)
    assert not isinstance(raised.value, TokenError)
    assert str(raised.value) == message


@pytest.mark.parametrize("case", sorted(KERNEL_TYPES))
def test_kernel_refuses_values_that_are_not_ints_naming_the_field(kernel, case):
    message, build = KERNEL_TYPES[case]
    with pytest.raises(TypeError) as raised:
        build(kernel)
    assert str(raised.value) == message


def test_largest_values_that_fit_round_trip_untruncated(kernel):
    big = "x" * 65535
    wide = "\u00e9" * 32767  # 65534 bytes
    token = kernel.build_007(big[:32] if False else APP_ID, CERT, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF,
                             [(2, ((0xFFFF, 0xFFFFFFFF),), (big,)), (7, (), (wide, "", -0x8000)),
                              (7, (), ("", "", 0xFFFF))])  # fmt: skip
    _, _, app_id, issue_ts, expire, salt, services = kernel.parse_007(token, LAYOUTS)
    assert (app_id, issue_ts, expire, salt) == (APP_ID, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    assert services == [(2, ((0xFFFF, 0xFFFFFFFF),), (big,)), (7, (), (wide, "", -0x8000)), (7, (), ("", "", -1))]
    message_max = tuple((i, i) for i in range(10920))  # 8 + 2 + 6 * 10920 = 65530 bytes
    parsed = kernel.parse_006(kernel.build_006(APP_ID, CERT, "c", "u", 0xFFFFFFFF, 0xFFFFFFFF, message_max))
    assert parsed[5:] == (0xFFFFFFFF, 0xFFFFFFFF, message_max)


def test_model_refuses_values_that_do_not_fit_their_field():
    cases: List[Callable[[], Any]] = [
        lambda: ServiceRtm("x" * 65536),
        lambda: ServiceRtc("\u00e9" * 32768, 1),
        lambda: ServiceRtc("c", 2**32),
        lambda: ServiceRtc("c", -1),
        lambda: ServiceApaas("r", "u", 0x8000),
        lambda: ServiceApaas("r", "u", -0x8001),
        lambda: ServiceRtm("u").add_privilege(65536, 1),
        lambda: ServiceRtm("u").add_privilege(1, 2**32),
        lambda: Rtm2Permissions().add(65536, 0, []),
        lambda: Rtm2Permissions().add(0, 0, ["r"] * 65536),
        lambda: Rtm2Permissions().add(0, 0, ["x" * 65536]),
        lambda: AccessToken2(APP_ID, CERT, expire=2**32),
        lambda: AccessToken2(APP_ID, CERT, issue_ts=-1),
        lambda: AccessToken2(APP_ID, CERT, salt=2**32),
        lambda: AccessToken(APP_ID, CERT, "c" * 65536, 1),
        lambda: AccessToken(APP_ID, CERT, "c", 1, ts=2**32),
        lambda: AccessToken(APP_ID, CERT, "c", 1).add_privilege(1, -1),
    ]
    for case in cases:
        with pytest.raises(ValueError):
            case()


def test_model_refuses_too_many_services_and_privileges():
    token = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
    token.services = [ServiceFpa()] * 0xFFFF  # the cap, without 65535 add_service calls
    with pytest.raises(ValueError, match="65535"):
        token.add_service(ServiceFpa())
    many = ServiceFpa()
    many.privileges = {i: 1 for i in range(0x10000)}  # 65536 distinct u16 ids: one too many
    big = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
    big.add_service(many)
    with pytest.raises(ValueError):
        big.build()
    legacy006 = AccessToken(APP_ID, CERT, "c", 1, salt=1, ts=1)
    for i in range(10921):  # a 65536-byte message
        legacy006.add_privilege(i, 1)
    with pytest.raises(ValueError):
        legacy006.build()
    permissions = Rtm2Permissions()
    for resource_type in range(0x10000):  # 65536 resource types: the count word overflows
        permissions._entries[resource_type] = {}
    rtm2 = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
    rtm2.add_service(ServiceRtm2("u", permissions))
    with pytest.raises(ValueError):
        rtm2.build()


@pytest.mark.parametrize("size", [(1 << 20) + 1, 16 << 20])
def test_decompression_is_capped_on_both_kernels(size):
    bomb = "007" + _b64(zlib.compress(b"\0" * size, 9))
    assert len(bomb) < 25_000  # small token, megabytes inflated
    for kernel in filter(None, (_pure, _fastpack)):
        with pytest.raises(TokenError, match="inflates past"):
            kernel.parse_007(bomb, LAYOUTS)
    with pytest.raises(TokenError, match="inflates past"):
        AccessToken2.parse(bomb)


def test_payload_at_the_cap_is_still_read(kernel):
    content = b"\0" * (1 << 20)  # empty signature, empty app id, zero times, no services, padding
    token = "007" + _b64(zlib.compress(content, 9))
    parsed = kernel.parse_007(token, LAYOUTS)
    assert parsed[0] == b"" and parsed[2] == "" and parsed[6] == []


def test_huge_counts_in_a_small_payload_are_refused_fast(kernel):
    """A count of 65535 privileges or services in a few bytes: refused without reading past the end."""
    head = struct.pack("<H", 0) + struct.pack("<H", 0) + struct.pack("<IIIH", 1, 1, 1, 0xFFFF)
    for tail in (b"", struct.pack("<HH", 1, 0xFFFF), struct.pack("<HH", 8, 0) + struct.pack("<HH", 0, 0xFFFF)):
        with pytest.raises(TokenError, match="truncated"):
            kernel.parse_007("007" + _b64(zlib.compress(head + tail)), LAYOUTS)
    message = struct.pack("<IIH", 1, 1, 0xFFFF)
    body = struct.pack("<H", 0) + struct.pack("<II", 0, 0) + struct.pack("<H", len(message)) + message
    with pytest.raises(TokenError, match="truncated"):
        kernel.parse_006("006" + APP_ID + _b64(body))


# --------------------------------------------------------------------------------------------------
# Threads


THREADS = 8
PER_THREAD = 150


def _expected_007(thread: int, i: int) -> Tuple[str, tuple]:
    channel, uid = f"ch-{thread}-{i}", str(thread * 1000 + i)
    services = [(1, ((1, 600 + i), (2, 600)), (channel, uid)), (2, ((1, 60),), (f"user-{thread}",))]
    return channel, tuple(services)


def _run_on_threads(work: Callable[[int], None]) -> List[threading.Thread]:
    """Run ``work(t)`` on THREADS threads at once, give each 60 s to finish; return the ones still running,
    so a test that cares can fail on a hang instead of checking a half-filled result."""
    workers = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    return [w for w in workers if w.is_alive()]


@thread_unsafe
def test_eight_threads_build_parse_verify_concurrently(kernel):
    """Every thread builds its own tokens (fixed and fresh salts), parses them and verifies them;
    each fixed-salt token must equal the pure kernel's, computed beforehand on one thread."""
    expected = {
        (t, i): _pure.build_007(APP_ID, CERT, 1_700_000_000 + i, 3600, t * PER_THREAD + i + 1,
                                list(_expected_007(t, i)[1]))  # fmt: skip
        for t in range(THREADS)
        for i in range(PER_THREAD)
    }
    expected_006 = {
        (t, i): _pure.build_006(APP_ID, CERT, f"ch-{t}", str(i), i + 1, 2_000_000_000, ((1, i), (2, t)))
        for t in range(THREADS)
        for i in range(0, PER_THREAD, 5)
    }
    barrier = threading.Barrier(THREADS)
    errors: List[str] = []
    salts: List[List[int]] = [[] for _ in range(THREADS)]

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(PER_THREAD):
                services = list(_expected_007(t, i)[1])
                token = kernel.build_007(APP_ID, CERT, 1_700_000_000 + i, 3600, t * PER_THREAD + i + 1, services)
                if token != expected[t, i]:
                    errors.append(f"thread {t} token {i} differs")
                signature, info, app_id, issue_ts, expire, salt, parsed = kernel.parse_007(token, LAYOUTS)
                if parsed != services or (app_id, issue_ts, salt) != (APP_ID, 1_700_000_000 + i, t * PER_THREAD + i + 1):
                    errors.append(f"thread {t} token {i} parsed wrong")
                if not hmac.compare_digest(kernel.sign_007(CERT, issue_ts, salt, info), signature):
                    errors.append(f"thread {t} token {i} does not verify")
                fresh = kernel.build_007(APP_ID, CERT, None, 600, None, services)
                model = AccessToken2.parse(fresh)
                if not model.verify(CERT) or model.verify("0" * 32):
                    errors.append(f"thread {t} fresh token {i} verify wrong")
                salts[t].append(model.salt)
                if i % 5 == 0:
                    t006 = kernel.build_006(APP_ID, CERT, f"ch-{t}", str(i), i + 1, 2_000_000_000, ((1, i), (2, t)))
                    if t006 != expected_006[t, i]:
                        errors.append(f"thread {t} 006 token {i} differs")
                    p006 = AccessToken.parse(t006)
                    if not p006.verify(CERT, f"ch-{t}", str(i)) or p006.verify(CERT, f"ch-{t}", str(i + 1)):
                        errors.append(f"thread {t} 006 token {i} verify wrong")
        except Exception as exc:  # pragma: no cover
            errors.append(f"thread {t}: {type(exc).__name__}: {exc}")

    assert _run_on_threads(work) == []
    assert errors == []
    every = [s for per in salts for s in per]
    assert len(every) == THREADS * PER_THREAD
    # 1200 draws from 10^8: a shared or repeated stream would collide by the hundred.
    assert len(every) - len(set(every)) <= 2


@thread_unsafe
def test_threads_parse_hostile_input_while_others_build(kernel):
    """Parsing errors on some threads (TokenError, freed buffers) never disturb builds on others."""
    hostile = ["007" + _b64(zlib.compress(b"\0" * (2 << 20), 9)), "007!!", REAL_007[0][:-8], "006" + APP_ID + "AAAA"]
    good = {i: _pure.build_007(APP_ID, CERT, 1, 60, i + 1, [(2, ((1, 60),), (f"u{i}",))]) for i in range(100)}
    errors: List[str] = []
    barrier = threading.Barrier(THREADS)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(100):
            try:
                if t % 2:
                    for text in hostile:
                        try:
                            kernel.parse_007(text, LAYOUTS)
                            errors.append("hostile token parsed")
                        except TokenError:
                            pass
                elif kernel.build_007(APP_ID, CERT, 1, 60, i + 1, [(2, ((1, 60),), (f"u{i}",))]) != good[i]:
                    errors.append(f"thread {t} token {i} differs")
            except Exception as exc:  # pragma: no cover
                errors.append(f"{type(exc).__name__}: {exc}")

    assert _run_on_threads(work) == []  # none still running: a hang fails too
    assert errors == []


# --------------------------------------------------------------------------------------------------
# Fork: no salt stream is ever shared


DRAWS = 300  # per process and per kind; from 10^8 values, chance collisions stay below 1 in 10^4


def _draw_salts(n: int) -> Dict[str, List[int]]:
    """Salts from the kernel directly, from kernel-built tokens and from the model."""
    kernel = _backend.kernel
    direct = [kernel.random_salt() for _ in range(n)]
    built = [kernel.parse_007(kernel.build_007(APP_ID, CERT, 1, 60, None, [(4, (), ())]), LAYOUTS)[5]
             for _ in range(n // 3)]  # fmt: skip
    model = [AccessToken2(APP_ID, CERT).salt for _ in range(n // 3)]
    legacy006 = [AccessToken(APP_ID, CERT, "c", 1).salt for _ in range(n // 3)]
    return {"direct": direct, "built": built, "model": model, "006": legacy006}


def _check_streams(streams: Dict[str, Dict[str, List[int]]]) -> None:
    """No two processes share a stream: a copied buffer repeats dozens of salts, in order."""
    names = sorted(streams)
    everything: List[int] = []
    for name in names:
        for kind, values in streams[name].items():
            assert values and all(1 <= v <= 99_999_999 for v in values), (name, kind)
            everything += values
    for a in names:
        for b in names:
            if a < b:
                assert streams[a]["direct"][:32] != streams[b]["direct"][:32], f"{a} and {b} share a salt stream"
    # ~2,500 draws from 10^8: ≥ 4 repeats by chance has probability ~1e-8; a shared stream gives 100+.
    repeats = len(everything) - len(set(everything))
    assert repeats <= 3, f"{repeats} salts repeated across processes"


def _child_report(write_fd: int) -> None:
    signal.alarm(60)  # a child that hangs (a lock inherited locked) dies and fails the test
    try:
        payload = json.dumps(_draw_salts(DRAWS)).encode()
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(0)


def _read_child(pid: int, read_fd: int) -> Dict[str, List[int]]:
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert not os.WIFSIGNALED(status), f"a forked child hung or crashed (signal {os.WTERMSIG(status)})"
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return json.loads(data)


def _fork_child() -> Tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child_report(write_fd)
    os.close(write_fd)
    return pid, read_fd


@thread_unsafe
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_os_fork_children_never_share_the_parent_salt_stream(kernel):
    kernel.random_salt()  # the parent's buffer is now filled and partly used
    AccessToken2(APP_ID, CERT)
    children = [_fork_child() for _ in range(4)]
    streams = {"parent": _draw_salts(DRAWS)}
    for n, (pid, fd) in enumerate(children):
        streams[f"child{n}"] = _read_child(pid, fd)
    _check_streams(streams)


def _pool_task(_: int) -> Dict[str, List[int]]:
    return _draw_salts(DRAWS // 2)


@thread_unsafe
@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork start method")
def test_multiprocessing_fork_pool_never_shares_salt_streams(kernel):
    kernel.random_salt()
    context = multiprocessing.get_context("fork")
    with context.Pool(3) as pool:
        results = pool.map(_pool_task, range(6), chunksize=1)
    streams: Dict[str, Dict[str, List[int]]] = {"parent": _draw_salts(DRAWS // 2)}
    # Tasks on one worker continue one stream: merge by content, then compare the workers' streams.
    for n, result in enumerate(results):
        streams[f"task{n}"] = result
    everything = [v for s in streams.values() for values in s.values() for v in values]
    assert len(everything) - len(set(everything)) <= 3
    firsts = [tuple(s["direct"][:16]) for s in streams.values()]
    assert len(set(firsts)) == len(firsts)


@thread_unsafe
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_prefork_worker_pool_like_gunicorn(kernel):
    """A master warms up (builds tokens on its main thread and a second thread), then forks workers
    that serve with several threads each, as gunicorn's gthread workers do; a worker also re-forks."""
    at.build_rtc_token(APP_ID, CERT, "warm", uid=1)
    warm = threading.Thread(target=lambda: [at.build_rtm_token(APP_ID, CERT, "w") for _ in range(10)])
    warm.start()
    warm.join()

    def worker(write_fd: int, refork: bool) -> None:
        signal.alarm(60)
        try:
            results: Dict[str, List[int]] = {}
            grandchild = _fork_child() if refork else None
            lock = threading.Lock()

            def serve(name: str) -> None:
                values = []
                for i in range(DRAWS // 3):
                    token = at.build_rtc_token(APP_ID, CERT, "room", uid=i + 1)
                    values.append(AccessToken2.parse(token).salt)
                with lock:
                    results[name] = values

            threads = [threading.Thread(target=serve, args=(f"t{n}",)) for n in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            results["direct"] = [_backend.kernel.random_salt() for _ in range(DRAWS)]
            if grandchild is not None:
                results["grandchild"] = [v for vs in _read_child(*grandchild).values() for v in vs]
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(json.dumps(results).encode())
        finally:
            os._exit(0)

    workers = []
    for n in range(4):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            worker(write_fd, refork=(n == 0))
        os.close(write_fd)
        workers.append((pid, read_fd))
    streams = {"master": _draw_salts(DRAWS)}
    for n, (pid, fd) in enumerate(workers):
        streams[f"worker{n}"] = _read_child(pid, fd)
    _check_streams(streams)


@thread_unsafe
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_fork_right_after_a_thread_exits_never_hangs(kernel):
    """Thread.join() returns before the OS thread has run its TLS destructors (OpenSSL's per-thread
    cleanup takes its global RAND lock): a fork in that window must not leave the child unable to
    draw a salt. Each child gets 20 s, then SIGALRM makes a hang a failure."""
    hung = 0
    for _ in range(40):
        worker = threading.Thread(target=kernel.random_salt)
        worker.start()
        worker.join()
        pid = os.fork()
        if pid == 0:
            signal.alarm(20)
            try:
                drawer = threading.Thread(target=kernel.random_salt)
                drawer.start()
                drawer.join()
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        hung += os.WIFSIGNALED(status)
    assert hung == 0, f"{hung} of 40 children hung drawing a salt"


# --------------------------------------------------------------------------------------------------
# Secrets


def _public_objects() -> List[object]:
    token = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
    for service in every_service():
        token.add_service(service)
    built = token.build()
    parsed = AccessToken2.parse(built)
    parsed.verify(CERT)
    t006 = AccessToken(APP_ID, CERT, "channel", 1234, salt=3, ts=2_000_000_000)
    t006.add_privilege(1, 5)
    p006 = AccessToken.parse(t006.build())
    p006.verify(CERT, "channel", 1234)
    from agora_token.compat import AccessToken as compat006
    from agora_token.compat import AccessToken2 as compat007

    c007 = compat007.AccessToken(APP_ID, CERT, issue_ts=1, expire=60)
    c007.add_service(compat007.ServiceRtc("c", 1))
    c007.build()
    c007_parsed = compat007.AccessToken()
    c007_parsed.from_string(built)
    c007_parsed.verify_signature(CERT)
    c006 = compat006.AccessToken(APP_ID, CERT, "c", 1)
    c006.build()
    dk5 = legacy.build_dynamic_key5(APP_ID, CERT, "c", 1, 2_000_000_000, issue_ts=1, salt=1)
    dk_parsed = legacy.parse(dk5)
    report = describe(built, app_certificate=CERT, channel="channel", uid=42, now=2)
    return [token, parsed, t006, p006, c007, c007_parsed, c006, dk_parsed, report, *token.services,
            *parsed.services, *every_service(), Rtm2Permissions().add(0, 0, ["a"])]  # fmt: skip


def test_services_without_named_privileges_repr_and_describe():
    """ConvoAI/STT declare no privilege names (an empty IntEnum): a privilege on them, from the model
    or from a parsed token, must still repr and describe (an empty enum raises TypeError)."""
    for cls in (ServiceConvoAI, ServiceStt):
        service = cls()
        service.add_privilege(1, 5)
        assert "1" in repr(service)
        token = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
        token.add_service(service)
        built = token.build()
        repr(AccessToken2.parse(built))
        assert render(describe(built, app_certificate=CERT, now=1))


def test_certificate_in_no_repr_or_str_of_any_object():
    for obj in _public_objects():
        _no_secret(repr(obj), str(obj), format(obj, ""))
        if isinstance(obj, dict):
            _no_secret(json.dumps(obj, default=str), "\n".join(render(obj)))


BAD_CERTS = [CERT + "0", CERT[:-1], CERT[:-1] + "g", " " + CERT, CERT + "\n", CERT.encode(), CERT[:16] + "\u00e9" + CERT[17:]]

BUILDERS: Dict[str, Tuple[Callable[..., str], tuple, Dict[str, Any]]] = {
    "rtc": (at.build_rtc_token, ("c",), {"uid": 1}),
    "rtc-006": (at.build_rtc_token, ("c",), {"uid": 1, "version": "006"}),
    "rtc-privileges": (at.build_rtc_token_with_privileges, ("c",), dict(uid=1, join_channel_expire=1,
                       publish_audio_expire=1, publish_video_expire=1, publish_data_expire=1)),  # fmt: skip
    "rtc-rtm": (at.build_rtc_rtm_token, ("c",), {"uid": 1, "rtm_user_id": "u"}),
    "rtc-tokens": (at.build_rtc_tokens, ("c", [1, 2]), {}),
    "rtm": (at.build_rtm_token, ("u",), {}),
    "rtm-006": (at.build_rtm_token, ("u",), {"version": "006"}),
    "chat-user": (at.build_chat_user_token, ("u",), {}),
    "chat-app": (at.build_chat_app_token, (), {}),
    "apaas-room-user": (at.build_apaas_room_user_token, ("r", "u", 1), {}),
    "apaas-user": (at.build_apaas_user_token, ("u",), {}),
    "apaas-app": (at.build_apaas_app_token, (), {}),
    "fpa": (at.build_fpa_token, (), {}),
    "streaming": (at.build_streaming_token, ("c",), {"uid": 1}),
    "fcdn": (at.build_fcdn_token, ("c",), {"uid": 1}),
    "convoai": (at.build_convoai_token, ("c",), {"uid": 1}),
    "stt": (at.build_stt_token, ("c",), {"uid": 1}),
    "dk5": (legacy.build_dynamic_key5, ("c", 1, 2_000_000_000), {}),
    "signaling": (legacy.build_signaling_token, ("acct", 2_000_000_000), {}),
}
BAD_ARGS = [{"expire": -1}, {"expire": 2_000_000_000}, {"salt": 2**40}, {"issue_ts": -5}, {"bogus": CERT}]


def _exception_texts(exc: BaseException) -> List[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            *(repr(a) for a in exc.args)]  # fmt: skip


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_certificate_in_no_builder_exception(name):
    builder, args, kwargs = BUILDERS[name]
    assert builder(APP_ID, CERT, *args, **kwargs)
    for bad in BAD_CERTS:
        with pytest.raises((ValueError, TypeError)) as raised:
            builder(APP_ID, bad, *args, **kwargs)
        for text in _exception_texts(raised.value):
            _no_secret(text)
            assert CERT[:16].lower() not in text.lower() and CERT[-15:].lower() not in text.lower()
    for extra in BAD_ARGS:
        if extra.keys() - {"bogus"} and not set(extra) <= set(_parameters(builder)):
            continue
        try:
            builder(APP_ID, CERT, *args, **{**kwargs, **extra})
        except (ValueError, TypeError) as exc:
            for text in _exception_texts(exc):
                _no_secret(text.replace(f"'bogus': '{CERT}'", ""))  # the caller's own kwarg is theirs


def _parameters(func: Callable) -> List[str]:
    import inspect

    return list(inspect.signature(func).parameters)


def test_certificate_in_no_model_or_kernel_exception(kernel):
    attempts: List[Callable[[], Any]] = [
        lambda: AccessToken2(APP_ID, CERT + "0"),
        lambda: AccessToken2(APP_ID, CERT).build(),
        lambda: AccessToken2.parse(REAL_007[0]).verify(CERT + "x"),
        lambda: AccessToken2(APP_ID, CERT).verify(CERT),
        lambda: AccessToken(APP_ID, CERT[:-1] + "z"),
        lambda: AccessToken.parse(REAL_006[0]).build(),
        lambda: kernel.build_007(APP_ID, CERT.encode(), 1, 1, 1, []),
        lambda: kernel.build_007(APP_ID, CERT, 1, 1, 2**40, []),
        lambda: kernel.build_006(APP_ID, CERT, "c", "u", 1, 1, ((1, -1),)),
        lambda: kernel.sign_007(CERT, -1, 1, b""),
        lambda: kernel.sign_006(CERT, APP_ID, "c", "u", "not bytes"),
        lambda: describe(REAL_007[0], app_certificate=CERT + "0"),
        lambda: describe(REAL_006[0], app_certificate=CERT[:-1] + "-", channel="channel", uid=1234),
    ]
    for attempt in attempts:
        with pytest.raises(Exception) as raised:
            attempt()
        for text in _exception_texts(raised.value):
            _no_secret(text)
            assert CERT[:31].lower() not in text.lower()


def test_kernel_encoding_error_message_hides_the_certificate(kernel):
    """The kernels are private and take checked arguments; an unencodable certificate still gives a
    message (what tracebacks and logs print) without it. (The exception object keeps the string,
    as every UnicodeEncodeError does: see README "Reliability".)"""
    with pytest.raises(UnicodeEncodeError) as raised:
        kernel.build_007(APP_ID, CERT[:31] + "\udc80", 1, 1, 1, [])
    _no_secret(str(raised.value), "".join(traceback.format_exception_only(type(raised.value), raised.value)))


@thread_unsafe
def test_certificate_in_no_log_record(caplog):
    """Everything the library does, with every logger at DEBUG: no record carries the certificate."""
    caplog.set_level(logging.DEBUG)
    saved = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)}
    try:
        for name in saved:
            logging.getLogger(name).setLevel(logging.DEBUG)
        _log_everything(caplog)
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    objects = _public_objects()
    for builder, args, kwargs in BUILDERS.values():
        builder(APP_ID, CERT, *args, **kwargs)
    for token in REAL:
        render(describe(token, app_certificate=CERT, channel="channel", uid=1234, now=1))
    for bad in BAD_CERTS:
        try:
            at.build_rtc_token(APP_ID, bad, "c", uid=1)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            logging.getLogger("app").exception("token failed")  # what an application would log
    logging.getLogger("app").info("objects: %r", objects)
    for record in caplog.records:
        _no_secret(record.getMessage(), caplog.text)
        if record.exc_info:
            _no_secret("".join(traceback.format_exception(*record.exc_info)))


# Each failing command line and what its error must mention, so the error path meant is the one run.
CLI_FAILURES: List[Tuple[List[str], str]] = [
    (["rtc", "--channel", "c", "--uid", "1", "--app-certificate", CERT + "0"], "app_certificate must be 32"),
    (["rtc", "--channel", "c", "--uid", "1", "--app-certificate", CERT.lower() + "x"], "app_certificate must be 32"),
    (["rtc", "--channel", "c", "--uid", "-1"], "uid must be between"),
    (["rtc", "--channel", "c" * 65, "--uid", "1"], "channel is 65 bytes"),
    (["rtm", "--user-id", "u", "--expire", "999999"], "Agora caps tokens at 86400 s"),
    (["inspect", REAL_007[0][:-6], "--app-certificate", CERT], "not standard padded base64"),
    (["inspect", REAL_007[0], "--app-certificate", CERT[:-1]], "app_certificate must be 32"),
    (["inspect", "007" + _b64(zlib.compress(b"\0" * (2 << 20), 9)), "--app-certificate", CERT], "inflates past"),
    (["dk5", "--channel", "c", "--uid", "1", "--expire", "-1"], "expire must not be negative"),
    (["signaling", "--account", "a", "--expire", "x"], "--expire: invalid int value"),
    (["nonsense", CERT], "invalid choice: 'nonsense'"),
]


@thread_unsafe
@pytest.mark.parametrize("argv, reason", CLI_FAILURES, ids=range(len(CLI_FAILURES)))
def test_certificate_in_no_cli_error(argv, reason, capsys, monkeypatch, tmp_path):
    from agora_token.cli import main

    monkeypatch.setenv("AGORA_APP_ID", APP_ID)
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", CERT)
    status = main(argv)
    out, err = capsys.readouterr()
    assert status != 0
    assert reason in err, err
    _no_secret(out, err.replace(CERT, "") if argv[0] == "nonsense" else err)
    assert "Traceback" not in err
    # The same through a certificate file holding a bad (and the good) certificate.
    bad = tmp_path / "cert"
    bad.write_text(CERT + "0\n")
    monkeypatch.delenv("AGORA_APP_CERTIFICATE")
    status = main(["rtc", "--channel", "c", "--uid", "1", "--app-certificate-file", str(bad)])
    out, err = capsys.readouterr()
    assert status != 0
    _no_secret(out, err)


def test_signatures_are_checked_with_compare_digest(monkeypatch):
    """verify() goes through hmac.compare_digest, for 007, 006, compat and legacy tokens."""
    calls: List[Tuple[int, int]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    from agora_token.compat import AccessToken2 as compat007

    checks = [
        lambda: AccessToken2.parse(REAL_007[0]).verify(CERT),
        lambda: AccessToken2.parse(REAL_007[0]).verify("0" * 32),
        lambda: AccessToken.parse(REAL_006[0]).verify(CERT, "channel", 1234),
        lambda: legacy.parse(legacy.build_dynamic_key5(APP_ID, CERT, "c", 1, 2_000_000_000, issue_ts=1, salt=1))
        .verify(CERT, channel="c", uid=1),
    ]

    def compat_check() -> bool:
        token = compat007.AccessToken()
        token.from_string(REAL_007[0])
        return token.verify_signature(CERT)

    checks.append(compat_check)
    for check in checks:
        before = len(calls)
        check()
        assert len(calls) > before, "a signature was compared without hmac.compare_digest"


def _identifier_words(node: ast.AST) -> set:
    words = set()
    for sub in ast.walk(node):
        name = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else ""
        words.update(w for w in name.lower().split("_") if w)
    return words


def test_no_signature_is_compared_with_eq_in_the_source():
    """Static guard: no ``==``/``!=`` between values whose names say signature, digest or MAC."""
    root = Path(at.__file__).parent
    suspicious = {"signature", "sig", "digest", "mac", "hmac", "expected"}
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                for side in (node.left, *node.comparators):
                    if isinstance(side, ast.Call) and getattr(side.func, "id", "") == "len":
                        continue  # comparing lengths leaks nothing
                    if _identifier_words(side) & suspicious:
                        found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


# --------------------------------------------------------------------------------------------------
# Strictness: no argument is taken by truthiness, every message names its argument


BOOL_PARAMETERS = [
    (at.build_fcdn_token, "publish"),
    (at.build_fcdn_token, "play"),
    (at.build_streaming_token, "publish_mix_stream"),
    (at.build_streaming_token, "publish_raw_stream"),
]


@pytest.mark.parametrize("build, name", BOOL_PARAMETERS, ids=[n for _, n in BOOL_PARAMETERS])
@pytest.mark.parametrize("value", ["false", "", 0, 1, None, [True]], ids=repr)
def test_bool_parameters_take_only_bools(build, name, value):
    with pytest.raises(TypeError, match=f"^{name} must be a bool, not {type(value).__name__}$"):
        build(APP_ID, CERT, "room", uid=1, **{name: value})


GRANTS = {
    "publish": at.FCdnPrivilege.PUBLISH,
    "play": at.FCdnPrivilege.PLAY,
    "publish_mix_stream": at.StreamingPrivilege.PUBLISH_MIX_STREAM,
    "publish_raw_stream": at.StreamingPrivilege.PUBLISH_RAW_STREAM,
}


@pytest.mark.parametrize("build, name", BOOL_PARAMETERS, ids=[n for _, n in BOOL_PARAMETERS])
def test_bool_parameters_grant_exactly_what_they_say(build, name):
    off = AccessToken2.parse(build(APP_ID, CERT, "room", uid=1, **{name: False})).services[0].privileges
    on = AccessToken2.parse(build(APP_ID, CERT, "room", uid=1, **{name: True})).services[0].privileges
    assert GRANTS[name] not in off and len(off) == 1
    assert GRANTS[name] in on and len(on) == 2


HUGE = 10**5000  # past Python 3.11+'s 4,300-digit limit for printing an int


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: at.build_rtc_token(APP_ID, CERT, "room", uid=v), "uid"),
        (lambda v: at.build_rtc_token(APP_ID, CERT, "room", uid=1, expire=v), "expire"),
        (lambda v: at.build_rtc_token(APP_ID, CERT, "room", uid=1, privilege_expire=v), "privilege_expire"),
        (lambda v: at.build_rtm_token(APP_ID, CERT, "alice", expire=v), "expire"),
        (lambda v: at.build_rtc_tokens(APP_ID, CERT, "room", [1], threads=v), "threads"),
        (lambda v: at.build_rtc_token(APP_ID, CERT, "room", uid=1, issue_ts=v), "issue_ts"),
        (lambda v: at.build_rtc_token(APP_ID, CERT, "room", uid=1, salt=v), "salt"),
    ],
    ids=["uid", "expire", "privilege_expire", "rtm expire", "threads", "issue_ts", "salt"],
)
@pytest.mark.parametrize("value", [HUGE, -HUGE, True, 1.0], ids=["huge", "-huge", "True", "1.0"])
def test_int_parameters_refuse_bools_floats_and_huge_ints_naming_themselves(call, name, value):
    with pytest.raises((TypeError, ValueError)) as raised:
        call(value)
    message = str(raised.value)
    assert message.startswith(name + " "), message
    if isinstance(value, int) and not isinstance(value, bool):
        assert isinstance(raised.value, ValueError) and "an integer of 16610 bits" in message
    else:
        assert message == f"{name} must be an int, not {type(value).__name__}"


@pytest.mark.parametrize(
    "users", ["demo", b"demo", bytearray(b"demo"), 7, {1, 2}, iter([1, 2]), None], ids=repr
)
def test_users_must_be_a_list_or_tuple(users):
    with pytest.raises(TypeError, match=f"^users must be a list or tuple .*, not {type(users).__name__}$"):
        at.build_rtc_tokens(APP_ID, CERT, "room", users)


def test_users_list_and_tuple_build_one_token_each():
    for users in ([1, "bob"], (1, "bob")):
        tokens = at.build_rtc_tokens(APP_ID, CERT, "room", users)
        assert [AccessToken2.parse(t).services[0].uid for t in tokens] == ["1", "bob"]


@pytest.mark.parametrize("prefix", ["007", "006" + APP_ID, "005", "1:"])
def test_every_parser_caps_the_token_length_before_decoding(kernel, prefix):
    limit = kernel.MAX_TOKEN_LENGTH
    assert limit == _pure.MAX_TOKEN_LENGTH == 2 * kernel.MAX_PAYLOAD
    hostile = prefix + "A" * (50_000_000 - len(prefix))  # the pure kernel once took 6 s to refuse it
    expected = f"^token is longer than {limit} characters: no valid token is$"
    parse = {"007": AccessToken2.parse, "006": AccessToken.parse}.get(prefix[:3], legacy.parse)
    with pytest.raises(TokenError, match=expected):
        parse(hostile)
    with pytest.raises(TokenError, match=expected):
        parse(hostile[: limit + 1])
    with pytest.raises(TokenError) as raised:  # at the limit: decoded, and refused for what it is
        parse(hostile[:limit])
    assert "longer than" not in str(raised.value)


@pytest.mark.parametrize(
    "token",
    ["1:\udc80" + APP_ID[1:] + ":1700000000:" + "0" * 32, "007\udc80", "006" + APP_ID + "\ud800AAAA", "005\udfff"],
    ids=["signaling", "007", "006", "005"],
)
def test_lone_surrogates_are_refused_at_parse_time(kernel, token):
    parse = {"007": AccessToken2.parse, "006": AccessToken.parse}.get(token[:3], legacy.parse)
    with pytest.raises(TokenError):
        parse(token)
    with pytest.raises(TokenError):
        describe(token, app_certificate=CERT)
