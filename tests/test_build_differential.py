"""Both kernels build the same bytes from the same values, and refuse the same values in the same
words (tests/differential.py's oracle), on the C kernel's fast paths and off them.

The fast paths are: a numeric uid written as its decimal by the kernel (docs/format.md, "User
ids"), exact-int privilege pairs packed without a Python call, base64 through a table of every
12-bit value, and 006's HMAC state with the App ID and channel already absorbed (cached per thread
for the last channel signed). Each test here drives values on and off those paths and holds the C
kernel to the pure one, which has no fast path at all.
"""

from __future__ import annotations

import base64
import random
from enum import IntEnum

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .common import APP_ID, CERT
from .differential import agree

pytestmark = pytest.mark.usefixtures("c_kernel")  # the oracle needs both kernels

FAST = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
U32 = 0xFFFFFFFF
PUBLISHER = ((1, 2_000_000_000), (2, 2_000_000_000), (3, 2_000_000_000), (4, 2_000_000_000))


def build_006(uid: object, privileges: object = PUBLISHER, channel: str = "room", app_id: str = APP_ID,
              cert: str = CERT, salt: int = 7) -> tuple[str, ...]:  # fmt: skip
    return (app_id, cert, channel, uid, salt, 2_000_000_000, privileges)  # type: ignore[return-value]


def build_007_user(uid: object, privileges: object = PUBLISHER, channel: str = "room") -> tuple[object, ...]:
    return (APP_ID, CERT, 1_700_000_000, 3600, 7, 1, privileges, channel, uid)


# --------------------------------------------------------------------------------------------------
# Users: a numeric uid is its decimal string, 0 the empty one


@FAST
@given(uid=st.one_of(st.integers(0, U32), st.sampled_from([0, 1, 9, 10, 99, 100, 2**31, U32])))
def test_a_numeric_uid_builds_the_token_of_its_decimal_string(uid: int) -> None:
    wire = str(uid) if uid else ""
    for name, args in (("build_006", build_006), ("build_007_user", build_007_user)):
        token = agree(name, *args(uid), allowed=())[1]
        assert token == agree(name, *args(wire), allowed=())[1]


class Uid(IntEnum):
    """An int subclass whose str() is not its decimal on every Python."""

    SEVEN = 7


@FAST
@given(
    uid=st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=U32 + 1),
        st.floats(),
        st.none(),
        st.binary(max_size=4),
        st.booleans(),
        st.sampled_from([Uid.SEVEN, [], (), 1j]),
    )
)
def test_a_uid_out_of_range_or_of_another_type_is_refused_alike(uid: object) -> None:
    for name, args in (("build_006", build_006), ("build_007_user", build_007_user)):
        kind, value = agree(name, *args(uid), allowed=(ValueError, TypeError))
        if kind == "raised":
            words = ("uid must be from 0 to 4294967295", f"uid must be a str or an int, not {type(uid).__name__}")
            assert value[1] in words
        else:  # an int-like value in range: its decimal (a bool is the int it is, as in every int field)
            assert isinstance(uid, int)
            assert value == agree(name, *args(str(int(uid)) if uid else ""), allowed=())[1]


# --------------------------------------------------------------------------------------------------
# Privileges: exact-int pairs on the fast path, anything else on the general one, from any pair on


class Privilege(IntEnum):
    JOIN = 1


_PAIR = st.one_of(
    st.tuples(st.integers(0, 0xFFFF), st.integers(0, U32)),  # the fast path
    st.tuples(st.integers(-2, 0x10001), st.integers(-2, U32 + 2)),  # in range or just out
    st.tuples(st.sampled_from([Privilege.JOIN, True, 1.0, "1", None]), st.integers(0, U32)),
    st.tuples(st.integers(0, 0xFFFF), st.sampled_from([True, Privilege.JOIN, 2**64, 1.5, "1"])),
    st.lists(st.integers(0, 5), min_size=0, max_size=3),  # a list pair, or no pair at all
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)),
)


@FAST
@given(pairs=st.lists(_PAIR, max_size=8), as_tuple=st.booleans())
def test_privileges_of_every_shape_pack_and_fail_alike(pairs: list[object], as_tuple: bool) -> None:
    privileges = tuple(pairs) if as_tuple else pairs
    for name, args in (("build_006", build_006), ("build_007_user", build_007_user)):
        agree(name, *args("u", privileges), allowed=(ValueError, TypeError))
    agree("build_007", APP_ID, CERT, 1, 1, 1, [(2, privileges, ("u",))], allowed=(ValueError, TypeError))


# Every level of the wire tuples, given a value of the wrong shape: both kernels refuse it in the
# project's words (the interpreter's differ between the kernels and between Pythons).
_NOT_A_SEQUENCE = (5, None, 1.5)


@pytest.mark.parametrize("value", _NOT_A_SEQUENCE)
def test_privileges_that_are_no_sequence_are_refused_alike_in_our_words(value: object) -> None:
    kind = type(value).__name__
    expected = ("raised", (TypeError, f"privileges must be a sequence of (id, value) pairs, not {kind}"))
    for name, args in (("build_006", build_006), ("build_007_user", build_007_user)):
        assert agree(name, *args("u", value), allowed=(TypeError,)) == expected
    assert agree("build_007", APP_ID, CERT, 1, 1, 1, [(2, value, ("u",))], allowed=(TypeError,)) == expected


@pytest.mark.parametrize("value", _NOT_A_SEQUENCE)
def test_services_or_fields_that_are_no_sequence_are_refused_alike_in_our_words(value: object) -> None:
    kind = type(value).__name__
    services = ("raised", (TypeError, f"services must be a sequence of (type, privileges, fields) triples, not {kind}"))
    assert agree("build_007", APP_ID, CERT, 1, 1, 1, value, allowed=(TypeError,)) == services
    if value:  # a false value is no fields at all
        fields = ("raised", (TypeError, f"service fields must be a sequence of str and int, not {kind}"))
        assert agree("build_007", APP_ID, CERT, 1, 1, 1, [(2, (), value)], allowed=(TypeError,)) == fields


@pytest.mark.parametrize("service", [None, 5, "ab", (1,), (1, ()), [1, (), (), ()]])
def test_a_service_that_is_no_triple_is_refused_alike_in_our_words(service: object) -> None:
    expected = ("raised", (TypeError, "each service must be a (type, privileges, fields) triple"))
    assert agree("build_007", APP_ID, CERT, 1, 1, 1, ((2, (), ("u",)), service), allowed=(TypeError,)) == expected


class Three(IntEnum):
    VALUE = 3


def test_a_pair_off_the_fast_path_after_pairs_on_it_packs_the_same_token() -> None:
    """The fast path packs the leading exact pairs, the general path the rest, into one map."""
    expected = agree("build_006", *build_006("u", ((1, 5), (2, 6), (3, 3), (4, 8))), allowed=())[1]
    for odd in ([3, 3], (Three.VALUE, 3), (3, Three.VALUE)):
        privileges = ((1, 5), (2, 6), odd, (4, 8))
        assert agree("build_006", *build_006("u", privileges), allowed=())[1] == expected


# --------------------------------------------------------------------------------------------------
# base64: every 12-bit value of the table, in tokens of every length mod 3


def test_base64_of_tokens_covers_every_12_bit_value_alike() -> None:
    """Privilege values are arbitrary u32s: tokens of seeded random ones use every 12-bit value."""
    draw = random.Random(20260101)
    seen: set[int] = set()
    for n in range(300):
        privileges = tuple((i, draw.getrandbits(32)) for i in range(100 + n % 3))  # lengths of every class mod 3
        token = agree("build_006", *build_006(n, privileges), allowed=())[1]
        body = base64.b64decode(token[35:])
        whole = len(body) - len(body) % 3
        for i in range(0, whole, 3):
            group = int.from_bytes(body[i : i + 3], "big")
            seen.update((group >> 12, group & 0xFFF))
    assert len(seen) == 4096  # every entry of the C kernel's table was used, and agreed with _pure


# --------------------------------------------------------------------------------------------------
# 006 signatures: the cached App ID + channel prefix never changes one


_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=0x7FF), max_size=70)


@FAST
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from([APP_ID, APP_ID.lower(), "", "a" * 63, "a" * 64, "a" * 130]),
            st.one_of(st.sampled_from(["room", "r" * 32, "r" * 64, "r" * 96, "r" * 200, ""]), _TEXT),
            st.sampled_from([CERT, CERT.lower(), "k" * 64, "k" * 65]),
            st.one_of(st.integers(0, U32), _TEXT),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_006_signatures_hold_across_changing_certificates_app_ids_and_channels(
    calls: list[tuple[str, str, str, object]],
) -> None:
    for app_id, channel, cert, uid in calls:  # one thread: each call meets the cache the last one left
        agree("build_006", *build_006(uid, channel=channel, app_id=app_id, cert=cert), allowed=())
        agree("sign_006", cert, app_id, channel, uid if isinstance(uid, str) else str(uid), b"m", allowed=())


def test_006_tokens_of_one_channel_many_users_match_the_pure_kernel() -> None:
    """The server's case: the prefix is cached once and reused for each user."""
    for channel in ("r" * 32, "room", "r" * 64 + "x"):
        for uid in range(1, 50):
            agree("build_006", *build_006(uid, channel=channel), allowed=())


# --------------------------------------------------------------------------------------------------
# Credentials that are no str: refused alike, in our words and in the C kernel's order of reading


@pytest.mark.parametrize("app_id, cert", [(5, CERT), (None, CERT), ([1], CERT), (APP_ID, 5), (APP_ID, None),
                                          (APP_ID, [1]), (APP_ID, b"x"), (b"x", None)])  # fmt: skip
@pytest.mark.parametrize("other", ["none", "ts", "privileges", "salt"])
def test_credentials_of_another_type_are_refused_alike_in_our_words(app_id: object, cert: object, other: str) -> None:
    """Every build and sign function, given a bad App ID or certificate alone or with one other bad value."""
    ts = -1 if other == "ts" else 100
    privileges: object = 5 if other == "privileges" else ((1, 2),)
    salt = -1 if other == "salt" else 1
    calls: list[tuple[str, tuple[object, ...]]] = [
        ("build_006", (app_id, cert, "c", 1, salt, ts, privileges)),
        ("build_007", (app_id, cert, ts, 100, salt, ((1, privileges, ("c", "u")),))),
        ("build_007_user", (app_id, cert, ts, 100, salt, 1, privileges, "c", "u")),
        ("build_007_each", (app_id, cert, ts, 100, 1, privileges, "c", ["u", "v"])),
        ("sign_006", (cert, app_id, "c", "u", b"message")),
        ("sign_007", (cert, ts, salt, b"signing info")),
    ]
    for name, args in calls:
        result = agree(name, *args, allowed=(TypeError, ValueError))
        if name == "sign_007" and cert == CERT and other in ("none", "privileges"):
            assert result[0] == "ok"  # it takes no App ID and no privileges
        else:
            assert result[0] == "raised" and "must be" in result[1][1], (name, result)
