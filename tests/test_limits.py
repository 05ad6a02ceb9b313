"""Limits: every length read is bounded by what is left, inflation is capped, and values that do
not fit their wire field raise ``ValueError`` (kernels and model) instead of being truncated, in the
same words from both kernels on every Python."""

from __future__ import annotations

import struct
import zlib
from typing import Any, Callable

import pytest

from agora_token import (
    AccessToken,
    AccessToken2,
    Rtm2Permissions,
    ServiceApaas,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm,
    ServiceRtm2,
    TokenError,
    _pure,
)  # fmt: skip
from agora_token.services import LAYOUTS

from .common import APP_ID, CERT, b64

try:
    from agora_token import _fastpack
except ImportError:  # the conftest fixture skips (or fails) the "c" runs
    _fastpack = None  # type: ignore[assignment]

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)


# Each case and the message both kernels give for it, in the project's words on every Python: the
# field's name and the limit of its wire width (docs/format.md, "Primitives": u16 lengths and counts,
# u32 times and salts, map<u16,u32> privileges, 16-bit words in service fields).
U16 = "from 0 to 65535"
U32 = "from 0 to 4294967295"
BYTES = "must be at most 65535 bytes of UTF-8"
KERNEL_LIMITS: dict[str, tuple[str, Callable[[Any], Any]]] = {
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

KERNEL_TYPES: dict[str, tuple[str, Callable[[Any], Any]]] = {
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
    # A kernel reads no clock: the time is the caller's to give (wire.py reads it through time.time).
    "007 issue_ts None": (
        "issue_ts must be an int, not NoneType",
        lambda k: k.build_007(APP_ID, CERT, None, 1, 1, [(9, (), ())]),
    ),
    "007 each issue_ts None": (
        "issue_ts must be an int, not NoneType",
        lambda k: k.build_007_each(APP_ID, CERT, None, 1, 1, (), "c", ["u"]),
    ),
    "006 ts None": ("ts must be an int, not NoneType", lambda k: k.build_006(APP_ID, CERT, "c", "u", 1, None, ())),
    "sign_006 message str": (
        "message must be bytes, not str",
        lambda k: k.sign_006(CERT, APP_ID, "c", "u", "m"),
    ),
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
    _, _, app_id, issue_ts, expire, salt, count, services = kernel.parse_007(token, LAYOUTS)
    assert (app_id, issue_ts, expire, salt, count) == (APP_ID, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 3)
    assert services == [(2, ((0xFFFF, 0xFFFFFFFF),), (big,)), (7, (), (wide, "", -0x8000)), (7, (), ("", "", -1))]
    message_max = tuple((i, i) for i in range(10920))  # 8 + 2 + 6 * 10920 = 65530 bytes
    parsed = kernel.parse_006(kernel.build_006(APP_ID, CERT, "c", "u", 0xFFFFFFFF, 0xFFFFFFFF, message_max))
    assert parsed[5:] == (0xFFFFFFFF, 0xFFFFFFFF, message_max)


def test_model_refuses_values_that_do_not_fit_their_field():
    cases: list[Callable[[], Any]] = [
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
    bomb = "007" + b64(zlib.compress(b"\0" * size, 9))
    assert len(bomb) < 25_000  # small token, megabytes inflated
    for kernel in filter(None, (_pure, _fastpack)):
        with pytest.raises(TokenError, match="inflates past"):
            kernel.parse_007(bomb, LAYOUTS)
    with pytest.raises(TokenError, match="inflates past"):
        AccessToken2.parse(bomb)


def test_payload_at_the_cap_is_still_read(kernel):
    content = b"\0" * (1 << 20)  # empty signature, empty app id, zero times, no services, padding
    token = "007" + b64(zlib.compress(content, 9))
    parsed = kernel.parse_007(token, LAYOUTS)
    assert parsed[0] == b"" and parsed[2] == "" and parsed[6:] == (0, [])


def test_huge_counts_in_a_small_payload_are_refused_fast(kernel):
    """A count of 65535 privileges or services in a few bytes: refused without reading past the end."""
    head = struct.pack("<H", 0) + struct.pack("<H", 0) + struct.pack("<IIIH", 1, 1, 1, 0xFFFF)
    for tail in (b"", struct.pack("<HH", 1, 0xFFFF), struct.pack("<HH", 8, 0) + struct.pack("<HH", 0, 0xFFFF)):
        with pytest.raises(TokenError, match="truncated"):
            kernel.parse_007("007" + b64(zlib.compress(head + tail)), LAYOUTS)
    message = struct.pack("<IIH", 1, 1, 0xFFFF)
    body = struct.pack("<H", 0) + struct.pack("<II", 0, 0) + struct.pack("<H", len(message)) + message
    with pytest.raises(TokenError, match="truncated"):
        kernel.parse_006("006" + APP_ID + b64(body))
