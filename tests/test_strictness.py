"""Strictness: no argument is taken by truthiness, every message names its argument, and every
parser caps what it reads before decoding."""

from __future__ import annotations

import pytest

import agora_token as at
from agora_token import (
    AccessToken,
    AccessToken2,
    TokenError,
    _pure,
    legacy,
)  # fmt: skip
from agora_token.describe import describe

from .common import APP_ID, CERT

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)


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


@pytest.mark.parametrize("users", ["demo", b"demo", bytearray(b"demo"), 7, {1, 2}, iter([1, 2]), None], ids=repr)
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


@pytest.mark.thread_unsafe  # it fills the process-wide table of well-formed credentials
def test_credentials_remembered_well_formed_never_stand_for_other_values():
    """The last well-formed pair is recognised by identity; any other pair is checked as before."""
    from agora_token.validation import credentials_well_formed

    assert credentials_well_formed(APP_ID, CERT) and credentials_well_formed(
        APP_ID, CERT
    )  # remembered, then by identity
    for app_id, cert in ((APP_ID, CERT[:-1] + "g"), (APP_ID[:-1] + "g", CERT), (APP_ID, None), (None, None), (CERT, 5)):
        assert credentials_well_formed(app_id, cert) is False, (app_id, cert)
    assert credentials_well_formed(CERT, APP_ID) and credentials_well_formed(APP_ID, CERT)  # another pair, then back
    assert credentials_well_formed(APP_ID.upper(), CERT) and not credentials_well_formed([APP_ID], CERT)
