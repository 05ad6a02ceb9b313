"""The token model: round trips for every service, ordering, parse errors, verify, secrets."""

from __future__ import annotations

import pytest

from agora_token import AccessToken, AccessToken2, Rtm2Permissions, ServiceRtc, ServiceRtm, TokenError, _backend
from agora_token.services import LAYOUTS

from .common import APP_ID, CERT, UNKNOWN_SERVICE_TYPE, every_service

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)


@pytest.mark.parametrize("service", every_service(), ids=lambda s: type(s).__name__)
def test_each_service_round_trips(service):
    token = AccessToken2(APP_ID, CERT, issue_ts=1700000000, expire=3600, salt=7)
    token.add_service(service)
    parsed = AccessToken2.parse(token.build())
    assert parsed.services == [service]
    assert parsed.get_services(service.service_type) == [service]
    assert parsed.verify(CERT)
    assert (parsed.app_id, parsed.issue_ts, parsed.expire, parsed.salt) == (APP_ID, 1700000000, 3600, 7)


def test_services_sort_by_type_and_keep_insertion_order_within_a_type():
    token = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
    added = [ServiceRtm("b"), ServiceRtc("c", 1), ServiceRtm("a"), ServiceRtc("c", 2)]
    for service in added:
        token.add_service(service)
    parsed = AccessToken2.parse(token.build())
    assert [(s.service_type, s.fields()) for s in parsed.services] == [
        (1, {"channel_name": "c", "uid": "1"}),
        (1, {"channel_name": "c", "uid": "2"}),
        (2, {"user_id": "b"}),
        (2, {"user_id": "a"}),
    ]


def test_insertion_order_across_types_does_not_change_the_token():
    def build(order):
        token = AccessToken2(APP_ID, CERT, issue_ts=5, salt=5)
        for service in order:
            token.add_service(service)
        return token.build()

    rtc, rtm = ServiceRtc("c", 1), ServiceRtm("u")
    assert build([rtc, rtm]) == build([rtm, rtc])


def test_uid_zero_is_the_wildcard_and_string_zero_is_kept():
    assert ServiceRtc("c", 0).uid == ""
    assert ServiceRtc("c", "0").uid == "0"
    assert ServiceRtc("c", 2882341273).uid == "2882341273"


def test_rtm2_permissions_replace_on_repeated_add():
    permissions = Rtm2Permissions().add(0, 0, ["x"]).add(0, 0, ["y", "z"])
    assert permissions.as_dict() == {0: {0: ["y", "z"]}}


def test_unknown_service_type_stops_the_parse_but_verify_covers_it():
    rtc = ServiceRtc("c", 1).to_wire()
    rtm = ServiceRtm("u").to_wire()
    unknown = (UNKNOWN_SERVICE_TYPE, ((1, 5),), ("opaque",))
    token = _backend.kernel.build_007(APP_ID, CERT, 1, 600, 9, [rtc, unknown, rtm])
    parsed = AccessToken2.parse(token)
    assert [s.service_type for s in parsed.services] == [1]
    assert parsed.verify(CERT)


def test_verify_rejects_a_token_with_a_changed_byte():
    token = AccessToken2(APP_ID, CERT, issue_ts=10, salt=10)
    token.add_service(ServiceRtm("user"))
    built = token.build()
    other_cert = "0" * 32
    assert AccessToken2.parse(built).verify(CERT)
    assert not AccessToken2.parse(built).verify(other_cert)


def test_verify_needs_a_parsed_token_and_a_wellformed_certificate():
    token = AccessToken2(APP_ID, CERT)
    with pytest.raises(ValueError, match="parse"):
        token.verify(CERT)
    token.add_service(ServiceRtm("u"))
    parsed = AccessToken2.parse(token.build())
    with pytest.raises(ValueError, match="app_certificate"):
        parsed.verify("not-a-cert")


def test_build_needs_a_service_and_a_certificate():
    with pytest.raises(ValueError, match="service"):
        AccessToken2(APP_ID, CERT).build()
    bare = AccessToken2(APP_ID)
    bare.add_service(ServiceRtm("u"))
    with pytest.raises(ValueError, match="app_certificate"):
        bare.build()


def test_fresh_salts_and_issue_time_default_sensibly():
    import time

    salts = {AccessToken2(APP_ID, CERT).salt for _ in range(200)}
    assert len(salts) > 190 and all(1 <= s <= 99999999 for s in salts)
    assert abs(AccessToken2(APP_ID, CERT).issue_ts - time.time()) < 5


def test_certificate_never_in_repr():
    token = AccessToken2(APP_ID, CERT)
    token.add_service(ServiceRtc("c", 1))
    legacy = AccessToken(APP_ID, CERT, "c", 1)
    for text in (repr(token), str(token), repr(legacy), str(legacy), repr(token.services)):
        assert CERT not in text and CERT.lower() not in text


def test_006_round_trip_and_checks():
    token = AccessToken(APP_ID, CERT, "channel", 1234, salt=3, ts=2_000_000_000)
    token.add_privilege(1, 1_900_000_000)
    parsed = AccessToken.parse(token.build())
    assert parsed.privileges == {1: 1_900_000_000}
    assert parsed.matches("channel", 1234) and parsed.matches("channel", "1234")
    assert parsed.verify(CERT, "channel", 1234)
    assert not parsed.verify(CERT, "channel", 1235)
    assert not parsed.verify(CERT, "other", 1234)
    assert not parsed.verify("1" * 32, "channel", 1234)


HOSTILE = [
    "",
    "007",
    "006",
    "008abc",
    "007!!!!",
    "007eJw=",
    "007" + "A" * 7,
    "007eJxTYLC/xv0i87343FLb46KrG9gPxT+Vj8pojqvt",
    "007\u00e9\u00e9\u00e9\u00e9",
    "007eJzLSM3JyQcABiwCFQ==",  # zlib("hello"): far too short to be a token
    "006970CA35de60c44645bbae8a215061b33",
    "006970CA35de60c44645bbae8a215061b33IAC",
    "006\u00e9" * 12,
    "006970CA35de60c44645bbae8a215061b33////",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_raise_token_error_only(text):
    with pytest.raises(TokenError):
        AccessToken2.parse(text)
    with pytest.raises(TokenError):
        AccessToken.parse(text)


@pytest.mark.parametrize("value", [None, 7, b"007abc", ["007"]])
def test_non_string_tokens_raise_token_error(value):
    with pytest.raises(TokenError):
        AccessToken2.parse(value)
    with pytest.raises(TokenError):
        AccessToken.parse(value)


def test_decompression_bomb_is_refused():
    import base64
    import zlib

    bomb = "007" + base64.b64encode(zlib.compress(b"\0" * (2 << 20), 9)).decode()
    assert len(bomb) < 10_000
    with pytest.raises(TokenError, match="inflates"):
        AccessToken2.parse(bomb)


def test_trailing_data_after_the_zlib_stream_is_refused():
    import base64

    token = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
    token.add_service(ServiceRtm("u"))
    raw = base64.b64decode(token.build()[3:]) + b"junk"
    with pytest.raises(TokenError):
        AccessToken2.parse("007" + base64.b64encode(raw).decode())


def test_every_truncation_of_a_real_token_raises_token_error():
    token = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
    for service in every_service():
        token.add_service(service)
    import base64
    import zlib

    content = zlib.decompress(base64.b64decode(token.build()[3:]))
    for cut in range(len(content)):
        truncated = "007" + base64.b64encode(zlib.compress(content[:cut])).decode()
        try:
            parsed = AccessToken2.parse(truncated)
        except TokenError:
            continue
        # A cut that ends exactly before an unknown-to-nobody boundary can still parse: never verify.
        assert not parsed.verify(CERT)


def test_layouts_cover_every_service_class():
    assert sorted(LAYOUTS) == list(range(1, 11))


@pytest.mark.c_extension
def test_c_kernel_deflate_through_python_zlib_gives_the_same_tokens():
    """Where the interpreter's zlib is zlib-ng, the C kernel deflates through it; that path is exact."""
    from agora_token import _fastpack

    services = [ServiceRtc("c", 7).to_wire(), ServiceRtm("u").to_wire()]
    linked = _fastpack.build_007(APP_ID, CERT, 100, 600, 5, services)
    _fastpack._set_deflate_with_python_zlib(True)
    try:
        through_python = _fastpack.build_007(APP_ID, CERT, 100, 600, 5, services)
    finally:
        _fastpack._set_deflate_with_python_zlib(_fastpack.DEFLATES_WITH_PYTHON_ZLIB)
    assert through_python == _pure_build(services)
    if not _fastpack.DEFLATES_WITH_PYTHON_ZLIB:  # the linked zlib is the interpreter's: same bytes
        assert linked == through_python


def _pure_build(services):
    from agora_token import _pure

    return _pure.build_007(APP_ID, CERT, 100, 600, 5, services)


@pytest.mark.parametrize("count", [0, 1, 255, 256, 257, 600])
def test_build_007_each_gives_build_007s_tokens_with_fresh_salts(kernel, count):
    """The many-token kernel call: each token equals build_007's for its uid at the salt it drew
    (blocks of 256 are sealed per GIL release, hence the counts around 256)."""
    privileges = ((1, 600), (2, 600), (3, 600), (4, 600))
    uids = [str(i) for i in range(count - 2)] + ["", "bob"] if count >= 2 else ["7"] * count
    tokens = kernel.build_007_each(APP_ID, CERT, 1111111, 600, 1, privileges, "room", uids)
    assert len(tokens) == count
    salts = set()
    for uid, token in zip(uids, tokens):
        parsed = AccessToken2.parse(token)
        salts.add(parsed.salt)
        assert parsed.verify(CERT) and parsed.services[0].uid == uid
        assert token == kernel.build_007(APP_ID, CERT, 1111111, 600, parsed.salt, ((1, privileges, ("room", uid)),))
    assert len(salts) >= count - 2


def test_build_007_each_refuses_what_build_007_refuses(kernel):
    each = kernel.build_007_each
    with pytest.raises(TypeError, match="uid"):
        each(APP_ID, CERT, 1, 600, 1, (), "room", ["1", 2])
    with pytest.raises(ValueError, match="^service field must be at most 65535 bytes of UTF-8$"):
        each(APP_ID, CERT, 1, 600, 1, (), "room", ["1", "x" * 65536])
    with pytest.raises(ValueError, match="^expire must be from 0 to 4294967295$"):
        each(APP_ID, CERT, 1, 2**32, 1, (), "room", ["1"])
    with pytest.raises(TypeError, match="^channel_name must be a str, not int$"):
        each(APP_ID, CERT, 1, 600, 1, (), 7, ["1"])


@pytest.mark.c_extension
def test_c_kernel_build_007_each_through_python_zlib():
    from agora_token import _fastpack

    _fastpack._set_deflate_with_python_zlib(True)
    try:
        tokens = _fastpack.build_007_each(APP_ID, CERT, 100, 600, 1, ((1, 600),), "c", ["1", "2"])
    finally:
        _fastpack._set_deflate_with_python_zlib(_fastpack.DEFLATES_WITH_PYTHON_ZLIB)
    for token in tokens:
        parsed = AccessToken2.parse(token)
        assert token == _pure_build_one(parsed.salt, parsed.services[0].uid)


def _pure_build_one(salt, uid):
    from agora_token import _pure

    return _pure.build_007(APP_ID, CERT, 100, 600, salt, ((1, ((1, 600),), ("c", uid)),))


def test_renamed_constants_still_work_with_a_warning():
    """The old names of the model's defaults give their values and say what to use instead."""
    from agora_token import token006, token007

    with pytest.warns(DeprecationWarning, match="OFFICIAL_DEFAULT_EXPIRE"):
        assert token007.DEFAULT_EXPIRE == token007.OFFICIAL_DEFAULT_EXPIRE == 900
    with pytest.warns(DeprecationWarning, match="MAX_LIFETIME"):
        assert token006.DEFAULT_TOKEN_LIFETIME == 24 * 3600
    with pytest.raises(AttributeError, match="no attribute 'NO_SUCH_NAME'"):
        token007.NO_SUCH_NAME  # noqa: B018 - the attribute access is the test
