"""Differential parse fuzzing: hostile token strings into both kernels and the model.

For any input, ``_pure`` and ``_fastpack`` either both raise ``TokenError`` with the same message or
both return equal results (tests/differential.py, the oracle the fuzzers share); nothing else
escapes, through the kernels or the model (parse, verify, describe). Inputs: random text, real
tokens mutated as text, their payloads mutated past the base64 and zlib layers, random zlib bodies,
and every truncation and u16 overwrite of the real payloads. The longer runs (atheris) live in fuzz/.
"""

from __future__ import annotations

import base64
import struct
import zlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agora_token import (
    AccessToken,
    AccessToken2,
    TokenError,
)  # fmt: skip
from agora_token.describe import describe
from agora_token.render import render
from agora_token.services import LAYOUTS

from .common import APP_ID, CERT, REAL, b64, payload
from .differential import agree

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
# The differential tests compare the two kernels whichever one the model runs on.
needs_c = pytest.mark.usefixtures("c_kernel")


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
        return "007" + b64(zlib.compress(bytes(content)))
    return token[:35] + b64(bytes(content))


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
        return "007" + b64(data)
    return "006" + APP_ID + b64(payload)


@needs_c
@FAST
@given(st.one_of(random_token_text(), mutated_text(), mutated_payload(), random_zlib_token()))
@example("007" + b64(zlib.compress(b"")))
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
                check_differential("007" + b64(zlib.compress(data)) if is_007 else token[:35] + b64(data))


@needs_c
def test_differential_every_truncation_of_real_payloads():
    for token in REAL:
        is_007 = token.startswith("007")
        content = payload(token) if is_007 else base64.b64decode(token[35:])
        for cut in range(len(content)):
            data = content[:cut]
            check_differential("007" + b64(zlib.compress(data)) if is_007 else token[:35] + b64(data))
