"""The drop-in layer ``agora_token.compat``: official vectors, byte identity with agoraiotools 0.3.4,
and the official python3 behaviour (docs/format.md: "Building", "Parsing", "Services")."""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib
import string
import time
import zlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agora_token import _backend, build_convoai_token, build_stt_token, wire
from agora_token import compat as compat_package
from agora_token.compat import AccessToken as c006
from agora_token.compat import AccessToken2 as c007
from agora_token.compat import ChatTokenBuilder2 as c_chat
from agora_token.compat import RtcTokenBuilder as c_rtc006
from agora_token.compat import RtcTokenBuilder2 as c_rtc
from agora_token.compat import RtmTokenBuilder as c_rtm006
from agora_token.compat import RtmTokenBuilder2 as c_rtm
from agora_token.compat import apaas_token_builder as c_apaas
from agora_token.compat import convoai_token_builder as c_convoai
from agora_token.compat import education_token_builder as c_edu
from agora_token.compat import fpa_token_builder as c_fpa
from agora_token.compat import stt_token_builder as c_stt

from .common import UNKNOWN_SERVICE_TYPE, VECTORS, payload, service_from_vector, vectors

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)


def _official(name: str) -> Any:
    # agoraiotools' __init__ rebinds several module names (AccessToken2, RtcTokenBuilder2, ...) to
    # classes, so ``from agoraiotools import X`` may give a class: fetch the modules themselves.
    return importlib.import_module(f"agoraiotools.{name}")


off006 = _official("AccessToken")
off007 = _official("AccessToken2")
off_rtc006 = _official("RtcTokenBuilder")
off_rtm006 = _official("RtmTokenBuilder")
off_rtc = _official("RtcTokenBuilder2")
off_rtm = _official("RtmTokenBuilder2")
off_chat = _official("ChatTokenBuilder2")
off_apaas = _official("apaas_token_builder")
off_edu = _official("education_token_builder")
off_fpa = _official("fpa_token_builder")

V006 = vectors(VECTORS, "006")
V007 = vectors(VECTORS, "007")
WITH_BUILDER = [v for v in V006 + V007 if "builder_equivalent" in v]
_SENTINEL = next(v["expected"] for v in V007 if v["verified_by_python3"])
STOCK_ZLIB = zlib.compress(payload(_SENTINEL)) == base64.b64decode(_SENTINEL[3:])
DAY = 24 * 3600  # a 006 token's own default lifetime (docs/format.md, "006")


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [v["id"] for v in items]


# --------------------------------------------------------------------------------------------------
# Pinning the salt and the clock


class _FixedSaltKernel:
    """The kernel under test, except that ``random_salt`` returns a fixed value."""

    def __init__(self, kernel: Any, salt: int) -> None:
        self._kernel = kernel
        self._salt = salt

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kernel, name)

    def random_salt(self) -> int:
        return self._salt

    # The kernels draw a None salt themselves: pin that too (the time comes from time.time, patched).
    def build_007(self, app_id: str, cert: str, issue_ts: int, expire: int, salt: Any, services: Any) -> str:
        return self._kernel.build_007(app_id, cert, issue_ts, expire, self._salt if salt is None else salt, services)

    def build_007_user(self, app_id: str, cert: str, issue_ts: int, expire: int, salt: Any, *service: Any) -> str:
        return self._kernel.build_007_user(
            app_id, cert, issue_ts, expire, self._salt if salt is None else salt, *service
        )

    def build_006(self, app_id: str, cert: str, channel: str, uid: str, salt: Any, ts: int, privileges: Any) -> str:
        return self._kernel.build_006(app_id, cert, channel, uid, self._salt if salt is None else salt, ts, privileges)


def _fixed_secrets(salt: int) -> SimpleNamespace:
    """Stands in for the ``secrets`` module inside agoraiotools: ``SystemRandom().randint`` gives ``salt``."""
    return SimpleNamespace(SystemRandom=lambda: SimpleNamespace(randint=lambda low, high: salt))


@contextlib.contextmanager
def pinned(monkeypatch: pytest.MonkeyPatch, salt: int, now: int) -> Iterator[None]:
    """Inside: time.time() is ``now``; compat and agoraiotools both draw ``salt``."""
    with monkeypatch.context() as m:
        m.setattr(_backend, "kernel", _FixedSaltKernel(_backend.kernel, salt))
        m.setattr(time, "time", lambda: float(now))
        m.setattr(off007, "secrets", _fixed_secrets(salt))
        m.setattr(off006, "secrets", _fixed_secrets(salt))
        yield


def both(monkeypatch: pytest.MonkeyPatch, salt: int, now: int, ours: Callable[[], str], theirs: Callable[[], str]):
    with pinned(monkeypatch, salt, now):
        return ours(), theirs()


def assert_token_matches(token: str, vector: dict[str, Any]) -> None:
    """Full string where the vector came from stock zlib, else the inflated payload (docs/format.md, "Compression")."""
    if vector["format"] == "006":
        assert token == vector["expected"]
        return
    assert payload(token) == payload(vector["expected"])
    if "uncompressed_hex" in vector:
        assert payload(token).hex() == vector["uncompressed_hex"]
    if vector["verified_by_python3"] and STOCK_ZLIB:
        assert token == vector["expected"]


# --------------------------------------------------------------------------------------------------
# (1) Official vectors through the compat core classes and builders


def compat_service(spec: dict[str, Any]) -> c007.Service:
    """A compat service from one entry of a vector's ``services`` list."""
    return service_from_vector(spec, c007.AccessToken.kServices)  # type: ignore[return-value]


def _salt_pinned_by_patching(inputs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> c007.AccessToken:
    with pinned(monkeypatch, inputs["salt"], inputs["issue_ts"]):
        return c007.AccessToken(inputs["app_id"], inputs["app_certificate"], expire=inputs["expire"])


def _salt_pinned_official_style(inputs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> c007.AccessToken:
    """Agora's own tests set ``token._AccessToken__salt`` after construction; that must still work."""
    token = c007.AccessToken2(inputs["app_id"], inputs["app_certificate"], inputs["issue_ts"], inputs["expire"])
    token._AccessToken__salt = inputs["salt"]
    return token


# One test for both ways of pinning the salt: what is checked after construction is the same.
@pytest.mark.parametrize(
    "make", [_salt_pinned_by_patching, _salt_pinned_official_style], ids=["patched-salt", "official-salt-pin"]
)
@pytest.mark.parametrize("vector", V007, ids=_ids(V007))
def test_007_vector_through_compat_access_token(vector, make, monkeypatch):
    token = make(vector["inputs"], monkeypatch)
    for spec in vector["inputs"]["services"]:
        token.add_service(compat_service(spec))
    assert_token_matches(token.build(), vector)


@pytest.mark.parametrize("vector", V006, ids=_ids(V006))
def test_006_vector_through_compat_access_token(vector):
    inputs = vector["inputs"]
    token = c006.AccessToken(inputs["app_id"], inputs["app_certificate"], inputs["channel_name"], inputs["uid"])
    token.salt = inputs["salt"]
    token.ts = inputs["ts"]
    for privilege, expire in inputs["privileges"].items():
        token.addPrivilege(int(privilege), expire)
    assert token.build() == vector["expected"]


def _rtc_role(privileges: dict[str, int]) -> int:
    """Publisher when the vector's RTC service carries the publish privileges (docs/format.md,
    "What the official builders produce")."""
    return c_rtc.Role_Publisher if "2" in privileges else c_rtc.Role_Subscriber


def _rtc_args(inputs: dict[str, Any]):
    (rtc,) = inputs["services"]
    return (
        inputs["app_id"], inputs["app_certificate"], rtc["channel_name"], rtc["uid"], _rtc_role(rtc["privileges"]),
        inputs["expire"], rtc["privileges"]["1"],
    )  # fmt: skip


def _apaas_room_user(inputs: dict[str, Any]) -> str:
    apaas = inputs["services"][0]
    args = (inputs["app_id"], inputs["app_certificate"], apaas["room_uuid"], apaas["user_uuid"], apaas["role"])
    token = c_apaas.ApaasTokenBuilder.build_room_user_token(*args, inputs["expire"])
    assert c_edu.EducationTokenBuilder.build_room_user_token(*args, inputs["expire"]) == token
    return token


def _rtc_rtm2(inputs: dict[str, Any]) -> str:
    rtc, rtm = inputs["services"]
    p = rtc["privileges"]
    return c_rtc.RtcTokenBuilder.build_token_with_rtm2(
        inputs["app_id"], inputs["app_certificate"], rtc["channel_name"], rtc["uid"], _rtc_role(p),
        inputs["expire"], p["1"], p["2"], p["3"], p["4"], rtm["user_id"], rtm["privileges"]["1"],
    )  # fmt: skip


def _rtc006(inputs: dict[str, Any]) -> str:
    p = inputs["privileges"]
    role = c_rtc006.Role_Publisher if "2" in p else c_rtc006.Role_Subscriber
    return c_rtc006.RtcTokenBuilder.buildTokenWithUid(
        inputs["app_id"], inputs["app_certificate"], inputs["channel_name"], inputs["uid"], role, p["1"]
    )


# The builder named before "(" in a vector's ``builder_equivalent``, fed from the vector's inputs.
BUILDERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "RtcTokenBuilder.buildTokenWithUid": _rtc006,
    "RtmTokenBuilder.buildToken": lambda i: c_rtm006.RtmTokenBuilder.buildToken(
        i["app_id"], i["app_certificate"], i["channel_name"], c_rtm006.Role_Rtm_User, i["privileges"]["1000"]
    ),
    "RtcTokenBuilder2.build_token_with_uid": lambda i: c_rtc.RtcTokenBuilder.build_token_with_uid(*_rtc_args(i)),
    "RtcTokenBuilder2.build_token_with_user_account": lambda i: c_rtc.RtcTokenBuilder2.build_token_with_user_account(
        *_rtc_args(i)
    ),
    "RtcTokenBuilder2.build_token_with_rtm2": _rtc_rtm2,
    "RtmTokenBuilder2.build_token": lambda i: c_rtm.RtmTokenBuilder.build_token(
        i["app_id"], i["app_certificate"], i["services"][0]["user_id"], i["expire"]
    ),
    "ChatTokenBuilder.build_user_token": lambda i: c_chat.ChatTokenBuilder.build_user_token(
        i["app_id"], i["app_certificate"], i["services"][0]["user_id"], i["expire"]
    ),
    "ChatTokenBuilder.build_app_token": lambda i: c_chat.ChatTokenBuilder2.build_app_token(
        i["app_id"], i["app_certificate"], i["expire"]
    ),
    "ApaasTokenBuilder.build_room_user_token": _apaas_room_user,
    "ApaasTokenBuilder.build_user_token": lambda i: c_apaas.ApaasTokenBuilder.build_user_token(
        i["app_id"], i["app_certificate"], i["services"][0]["user_uuid"], i["expire"]
    ),
    "ApaasTokenBuilder.build_app_token": lambda i: c_apaas.ApaasTokenBuilder.build_app_token(
        i["app_id"], i["app_certificate"], i["expire"]
    ),
}


def test_every_builder_vector_has_a_compat_builder():
    assert len(WITH_BUILDER) >= 12
    assert {v["builder_equivalent"].split("(")[0] for v in WITH_BUILDER} == set(BUILDERS)


@pytest.mark.parametrize("vector", WITH_BUILDER, ids=_ids(WITH_BUILDER))
def test_vector_through_compat_builder(vector, monkeypatch):
    inputs = vector["inputs"]
    # The builders draw the clock and salt themselves: 006 ts is now + 24 h, 007 issue_ts is now.
    now = inputs["ts"] - DAY if vector["format"] == "006" else inputs["issue_ts"]
    with pinned(monkeypatch, inputs["salt"], now):
        token = BUILDERS[vector["builder_equivalent"].split("(")[0]](inputs)
    assert_token_matches(token, vector)


@pytest.mark.parametrize("vector", V007, ids=_ids(V007))
def test_007_vector_parses_through_compat(vector):
    inputs = vector["inputs"]
    token = c007.AccessToken()
    assert token.from_string(vector["expected"]) is True
    assert token.verify_signature(inputs["app_certificate"]) is True
    assert token.verify_signature(inputs["app_certificate"][::-1]) is False
    assert (token._AccessToken__app_id, token._AccessToken__issue_ts) == (inputs["app_id"], inputs["issue_ts"])
    assert (token._AccessToken__expire, token._AccessToken__salt) == (inputs["expire"], inputs["salt"])
    expected = sorted((compat_service(s) for s in inputs["services"]), key=lambda s: s.service_type())
    assert token.services == expected
    for service in token.services:
        assert type(service) is c007.AccessToken.kServices[service.service_type()]
        same_type = [s for s in expected if s.kServiceType == service.kServiceType]
        assert token.get_services(service.service_type()) == same_type


@pytest.mark.parametrize("vector", V006, ids=_ids(V006))
def test_006_vector_parses_through_compat(vector):
    inputs = vector["inputs"]
    token = c006.AccessToken()
    assert token.fromString(vector["expected"]) is True
    assert (token.salt, token.ts) == (inputs["salt"], inputs["ts"])
    assert token.messages == {int(k): v for k, v in inputs["privileges"].items()}


# --------------------------------------------------------------------------------------------------
# (2) Byte identity with agoraiotools 0.3.4 on random inputs (salt and clock pinned in both)

HEX32 = st.text(string.hexdigits, min_size=32, max_size=32)
BAD_ID = st.one_of(
    st.text("0123456789abcdef", max_size=40).filter(lambda s: len(s) != 32),
    st.text("0123456789abcdefg-z", min_size=32, max_size=32).filter(lambda s: set(s) - set(string.hexdigits)),
)
APP_ID = st.one_of(HEX32, HEX32, HEX32, BAD_ID)
U32 = st.integers(0, 2**32 - 1)
U16 = st.integers(0, 2**16 - 1)
I16 = st.integers(-(2**15), 2**15 - 1)
SALT = st.integers(1, 99999999)
NOW = st.integers(1, 2**32 - 1 - DAY)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
UID = st.one_of(U32, st.just(0), TEXT, st.just("0"))
ROLE = st.one_of(st.sampled_from([1, 2]), st.integers(-3, 5))
ROLE006 = st.one_of(st.sampled_from([0, 1, 2, 101]), st.integers(-3, 200))


@given(
    app_id=APP_ID, cert=APP_ID, channel=TEXT, uid=UID, role=ROLE, expire=U32, privilege=U32,
    salt=SALT, now=NOW, by_uid=st.booleans(),
)  # fmt: skip
def test_rtc_builders_match_agoraiotools(
    monkeypatch, app_id, cert, channel, uid, role, expire, privilege, salt, now, by_uid
):
    name = "build_token_with_uid" if by_uid else "build_token_with_user_account"
    args = (app_id, cert, channel, uid, role, expire, privilege)
    ours, theirs = both(
        monkeypatch, salt, now,
        lambda: getattr(c_rtc.RtcTokenBuilder, name)(*args), lambda: getattr(off_rtc.RtcTokenBuilder, name)(*args),
    )  # fmt: skip
    assert ours == theirs


def _official_rtc_entries() -> int:
    """How many sets of arguments the RTC table holds as checked by the official rules."""
    return sum(key[0] == wire.OFFICIAL_RULES for key in wire.rtc_table())


# Clears the process-wide RTC table, which a copy of this test on another thread fills.
@pytest.mark.thread_unsafe
@given(
    app_id=HEX32, cert=HEX32, channel=TEXT, uids=st.lists(U32, min_size=1, max_size=3), role=ROLE, expire=U32,
    privilege=U32, first=UID,
)  # fmt: skip
def test_rtc_uid_hot_path_gives_the_checked_token(
    monkeypatch, app_id, cert, channel, uids, role, expire, privilege, first
):
    # Once build_token_with_uid has built a token, a new uid with the same other arguments is built
    # from the RTC table (wire.rtc_token): the token must be the one every check builds, and
    # agoraiotools', at the issue time and salt the table chose.
    wire.rtc_table().clear()
    args = (app_id, cert, channel)
    rest = (role, expire, privilege)
    try:
        c_rtc.RtcTokenBuilder.build_token_with_uid(*args, first, *rest)
    except (TypeError, ValueError):
        assert not wire.rtc_table()  # a refused call remembers nothing
        return
    assert _official_rtc_entries() == 1
    for uid in uids:
        hot = wire.rtc_token(wire.OFFICIAL_RULES, *args, uid, *rest, "007")
        assert hot is not None
        token = c_rtc.RtcTokenBuilder.build_token_with_uid(*args, uid, *rest)
        for built in (hot, token):
            parsed = c007.AccessToken()
            assert parsed.from_string(built)
            salt, now = parsed._AccessToken__salt, parsed._AccessToken__issue_ts
            checked, theirs = both(
                monkeypatch, salt, now,
                functools.partial(c_rtc.RtcTokenBuilder.build_token_with_user_account, *args, uid, *rest),
                functools.partial(off_rtc.RtcTokenBuilder.build_token_with_uid, *args, uid, *rest),
            )  # fmt: skip
            assert built == checked == theirs


# Clears the process-wide RTC table, which a copy of this test on another thread fills.
@pytest.mark.thread_unsafe
def test_rtc_uid_hot_path_is_not_taken_while_pinned():
    wire.rtc_table().clear()
    c_rtc.RtcTokenBuilder.build_token_with_uid(APP_ID_OK, CERT_OK, "demo", 1, 1, 600, 600)
    assert _official_rtc_entries() == 1  # remembered
    with compat_package.pinned(issue_ts=1_700_000_000, salt=4242):
        tokens = {
            c_rtc.RtcTokenBuilder.build_token_with_uid(APP_ID_OK, CERT_OK, "demo", 42, 1, 600, 600) for _ in range(3)
        }
    assert len(tokens) == 1
    parsed = c007.AccessToken()
    assert parsed.from_string(tokens.pop())
    assert (parsed._AccessToken__issue_ts, parsed._AccessToken__salt) == (1_700_000_000, 4242)


@given(
    app_id=APP_ID, cert=APP_ID, channel=TEXT, uid=UID, expire=U32, values=st.tuples(U32, U32, U32, U32),
    salt=SALT, now=NOW, by_uid=st.booleans(),
)  # fmt: skip
def test_rtc_privilege_builders_match_agoraiotools(
    monkeypatch, app_id, cert, channel, uid, expire, values, salt, now, by_uid
):
    name = "build_token_with_uid_and_privilege" if by_uid else "build_token_with_user_account_and_privilege"
    args = (app_id, cert, channel, uid, expire, *values)
    # agoraiotools 0.3.4 has these only on RtcTokenBuilder2 (the current folder and compat: on
    # RtcTokenBuilder), and its uid variant calls RtcTokenBuilder.build_token_with_user_account_and_privilege,
    # which is missing there, so it always raises AttributeError. Both variants share the uid rule of
    # ServiceRtc, so the account variant is the reference for both.
    ours, theirs = both(
        monkeypatch, salt, now,
        lambda: getattr(c_rtc.RtcTokenBuilder, name)(*args),
        lambda: off_rtc.RtcTokenBuilder2.build_token_with_user_account_and_privilege(*args),
    )  # fmt: skip
    assert ours == theirs


@given(
    app_id=APP_ID, cert=APP_ID, channel=TEXT, account=TEXT, rtc_account=UID, rtm_user=TEXT, role=ROLE,
    expire=U32, values=st.tuples(U32, U32, U32, U32), rtm_expire=U32, salt=SALT, now=NOW,
)  # fmt: skip
def test_rtc_rtm_builders_match_agoraiotools(
    monkeypatch, app_id, cert, channel, account, rtc_account, rtm_user, role, expire, values, rtm_expire, salt, now
):
    def check(name: str, *args: Any) -> None:
        ours, theirs = both(
            monkeypatch, salt, now,
            lambda: getattr(c_rtc.RtcTokenBuilder, name)(*args),
            lambda: getattr(off_rtc.RtcTokenBuilder2, name)(*args),
        )  # fmt: skip
        assert ours == theirs, name

    check("build_token_with_rtm", app_id, cert, channel, account, role, expire, values[0])
    check("build_token_with_rtm2", app_id, cert, channel, rtc_account, role, expire, *values, rtm_user, rtm_expire)


def test_rtc_rtm_builders_refuse_a_missing_rtm_user():
    # An RTM user None is refused as the RTM service refuses it; it never means "RTC alone".
    with pytest.raises(TypeError, match="user_id must be a str"):
        c_rtc.RtcTokenBuilder.build_token_with_rtm(APP_ID_OK, CERT_OK, "c", None, 1, 600, 600)
    with pytest.raises(TypeError, match="user_id must be a str"):
        c_rtc.RtcTokenBuilder.build_token_with_rtm2(APP_ID_OK, CERT_OK, "c", 1, 1, 600, 1, 2, 3, 4, None, 600)


@given(app_id=APP_ID, cert=APP_ID, user=TEXT, expire=U32, salt=SALT, now=NOW)
def test_rtm_chat_fpa_builders_match_agoraiotools(monkeypatch, app_id, cert, user, expire, salt, now):
    pairs = [
        (lambda: c_rtm.RtmTokenBuilder.build_token(app_id, cert, user, expire),
         lambda: off_rtm.RtmTokenBuilder.build_token(app_id, cert, user, expire)),
        (lambda: c_chat.ChatTokenBuilder.build_user_token(app_id, cert, user, expire),
         lambda: off_chat.ChatTokenBuilder.build_user_token(app_id, cert, user, expire)),
        (lambda: c_chat.ChatTokenBuilder.build_app_token(app_id, cert, expire),
         lambda: off_chat.ChatTokenBuilder.build_app_token(app_id, cert, expire)),
        (lambda: c_fpa.FpaTokenBuilder.build_token(app_id, cert),
         lambda: off_fpa.FpaTokenBuilder.build_token(app_id, cert)),
    ]  # fmt: skip
    for ours, theirs in pairs:
        assert both(monkeypatch, salt, now, ours, theirs)[0] == both(monkeypatch, salt, now, ours, theirs)[1]


@given(app_id=APP_ID, cert=APP_ID, room=TEXT, user=TEXT, role=I16, expire=U32, salt=SALT, now=NOW)
def test_apaas_education_builders_match_agoraiotools(monkeypatch, app_id, cert, room, user, role, expire, salt, now):
    for ours_cls, theirs_cls in (
        (c_apaas.ApaasTokenBuilder, off_apaas.ApaasTokenBuilder),
        (c_edu.EducationTokenBuilder, off_edu.EducationTokenBuilder),
    ):
        for name, args in (
            ("build_room_user_token", (app_id, cert, room, user, role, expire)),
            ("build_user_token", (app_id, cert, user, expire)),
            ("build_app_token", (app_id, cert, expire)),
        ):
            ours, theirs = both(
                monkeypatch,
                salt,
                now,
                functools.partial(getattr(ours_cls, name), *args),
                functools.partial(getattr(theirs_cls, name), *args),
            )
            assert ours == theirs


@given(
    app_id=HEX32, cert=HEX32, channel=TEXT, uid=UID, role=ROLE006, privilege_ts=U32, salt=SALT, now=NOW,
    by_uid=st.booleans(),
)  # fmt: skip
def test_006_builders_match_agoraiotools(
    monkeypatch, app_id, cert, channel, uid, role, privilege_ts, salt, now, by_uid
):
    # agoraiotools' 006 signs whatever App ID it is given; compat refuses a bad one (tested below).
    name = "buildTokenWithUid" if by_uid else "buildTokenWithAccount"
    args = (app_id, cert, channel, uid, role, privilege_ts)
    ours, theirs = both(
        monkeypatch, salt, now,
        lambda: getattr(c_rtc006.RtcTokenBuilder, name)(*args),
        lambda: getattr(off_rtc006.RtcTokenBuilder, name)(*args),
    )  # fmt: skip
    assert ours == theirs
    args = (app_id, cert, channel, 1, privilege_ts)
    ours, theirs = both(
        monkeypatch, salt, now,
        lambda: c_rtm006.RtmTokenBuilder.buildToken(*args), lambda: off_rtm006.RtmTokenBuilder.buildToken(*args),
    )  # fmt: skip
    assert ours == theirs


PRIVILEGES = st.dictionaries(U16, U32, max_size=5)
# Service types agoraiotools 0.3.4 knows (docs/format.md, "Differences between implementations"), with
# the arguments of each constructor.
SERVICE_ARGS = {
    1: st.tuples(TEXT, UID),
    2: st.tuples(TEXT),
    4: st.just(()),
    5: st.tuples(TEXT),
    7: st.tuples(TEXT, TEXT, I16),
}
OURS_007 = {1: c007.ServiceRtc, 2: c007.ServiceRtm, 4: c007.ServiceFpa, 5: c007.ServiceChat, 7: c007.ServiceApaas}
THEIRS_007 = {
    1: off007.ServiceRtc, 2: off007.ServiceRtm, 4: off007.ServiceFpa, 5: off007.ServiceChat, 7: off007.ServiceApaas,
}  # fmt: skip


@st.composite
def service_specs(draw):
    # agoraiotools keeps one service per type, so draw each type at most once.
    types = draw(st.lists(st.sampled_from(sorted(SERVICE_ARGS)), unique=True, max_size=5))
    return [(t, draw(SERVICE_ARGS[t]), draw(PRIVILEGES)) for t in draw(st.permutations(types))]


@given(
    app_id=APP_ID, cert=APP_ID, issue_ts=st.one_of(st.just(0), U32), expire=U32, specs=service_specs(),
    salt=SALT, now=NOW,
)  # fmt: skip
def test_access_token2_classes_match_agoraiotools(monkeypatch, app_id, cert, issue_ts, expire, specs, salt, now):
    def make(module, classes):
        token = module.AccessToken(app_id, cert, issue_ts=issue_ts, expire=expire)
        for service_type, args, privileges in specs:
            service = classes[service_type](*args)
            for privilege, value in privileges.items():
                service.add_privilege(privilege, value)
            token.add_service(service)
        return token.build()

    ours, theirs = both(monkeypatch, salt, now, lambda: make(c007, OURS_007), lambda: make(off007, THEIRS_007))
    assert ours == theirs


@given(app_id=HEX32, cert=HEX32, channel=TEXT, uid=UID, ts=U32, salt=st.integers(0, 2**32 - 1), privileges=PRIVILEGES)
def test_access_token_006_class_matches_agoraiotools(app_id, cert, channel, uid, ts, salt, privileges):
    tokens = []
    for module in (c006, off006):
        token = module.AccessToken(app_id, cert, channel, uid)
        token.salt, token.ts = salt, ts
        for privilege, value in privileges.items():
            token.addPrivilege(privilege, value)
        tokens.append(token.build())
    assert tokens[0] == tokens[1]


def test_compat_is_stricter_than_agoraiotools_about_whitespace_in_ids(monkeypatch):
    """An App ID is exactly 32 hex digits (docs/format.md, "Primitives"). agoraiotools' bytes.fromhex
    check also lets whitespace through; compat follows the format and refuses it."""
    spaced = "5CFd2fd1755d40ecb72977518be15d" + "  "
    good = "970CA35de60c44645bbae8a215061b33"
    ours, theirs = both(
        monkeypatch, 1, 1111111,
        lambda: c_rtm.RtmTokenBuilder.build_token(spaced, good, "u", 600),
        lambda: off_rtm.RtmTokenBuilder.build_token(spaced, good, "u", 600),
    )  # fmt: skip
    assert len(spaced) == 32 and theirs.startswith("007")
    assert ours == ""


# --------------------------------------------------------------------------------------------------
# (3) Official behaviour: build errors, parsing, verification, services

APP_ID_OK = V007[0]["inputs"]["app_id"]
CERT_OK = V007[0]["inputs"]["app_certificate"]


def _rtc_token(**kwargs: Any) -> c007.AccessToken:
    token = c007.AccessToken(kwargs.pop("app_id", APP_ID_OK), kwargs.pop("cert", CERT_OK), expire=600)
    service = c007.ServiceRtc("channel", 12345)
    service.add_privilege(c007.ServiceRtc.kPrivilegeJoinChannel, 600)
    token.add_service(service)
    return token


@pytest.mark.parametrize("bad", ["", "970CA35de60c44645bbae8a215061b3", "970CA35de60c44645bbae8a215061b3g", None, 12])
def test_build_returns_empty_on_bad_app_id_or_certificate(bad):
    assert _rtc_token().build().startswith("007")
    assert _rtc_token(app_id=bad).build() == ""
    assert _rtc_token(cert=bad).build() == ""
    token = c006.AccessToken(APP_ID_OK, CERT_OK, "channel", 1)
    token.addPrivilege(c006.kJoinChannel, 0)
    assert token.build().startswith("006" + APP_ID_OK)
    token.appID = bad
    assert token.build() == ""
    token.appID, token.appCertificate = APP_ID_OK, bad
    assert token.build() == ""


def test_builders_return_empty_on_bad_ids():
    assert c_rtc.RtcTokenBuilder.build_token_with_uid("x" * 32, CERT_OK, "c", 1, c_rtc.Role_Publisher, 600) == ""
    assert c_fpa.FpaTokenBuilder.build_token(APP_ID_OK, CERT_OK[:-1]) == ""
    assert c_rtc006.RtcTokenBuilder.buildTokenWithUid(APP_ID_OK[:-1], CERT_OK, "c", 1, 1, 0) == ""
    assert c_rtm006.RtmTokenBuilder.buildToken(APP_ID_OK, "z" * 32, "user", 1, 0) == ""


def test_build_returns_empty_without_a_service():
    assert c007.AccessToken(APP_ID_OK, CERT_OK).build() == ""


def test_build_can_be_called_again():
    token = _rtc_token()
    assert token.build() == token.build() != ""


def test_defaults_follow_the_official_constructor(monkeypatch):
    with pinned(monkeypatch, 42, 1111111):
        token = c007.AccessToken(APP_ID_OK, CERT_OK)
        legacy = c006.AccessToken(APP_ID_OK, CERT_OK, "channel", 0)
    assert (token._AccessToken__issue_ts, token._AccessToken__expire, token._AccessToken__salt) == (1111111, 900, 42)
    assert (legacy.ts, legacy.salt, legacy.uidStr, legacy.messages) == (1111111 + DAY, 42, "", {})
    assert c007.AccessToken(APP_ID_OK, CERT_OK, issue_ts=5)._AccessToken__issue_ts == 5


@pytest.mark.parametrize("token", ["", "006" + APP_ID_OK + "AAAA", "008eJw=", "7", b"007"])
def test_from_string_returns_false_on_another_version(token):
    parsed = c007.AccessToken()
    assert parsed.from_string(_rtc_token().build()) is True
    assert parsed.from_string(token) is False
    assert parsed.services == [] and parsed.verify_signature(CERT_OK) is False  # earlier state cleared


def _corrupt_tokens() -> list[Any]:
    good = _rtc_token().build()
    content = payload(good)
    truncated = "007" + base64.b64encode(zlib.compress(content[:-3])).decode()
    malformed = next(v["expected"] for v in VECTORS if v["kind"] == "parse-negative")
    return ["007", "007!!!!", "007" + good[3:-8], truncated, malformed, None]


@pytest.mark.parametrize("index", range(6))
def test_from_string_raises_value_error_on_a_corrupt_payload_without_printing(index, capsys):
    token = _corrupt_tokens()[index]
    with pytest.raises(ValueError):
        c007.AccessToken().from_string(token)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("token", ["", "007abc", "006" + APP_ID_OK + "!!!!", "006" + APP_ID_OK + "AAAA", "006short"])
def test_006_from_string_returns_false_without_printing(token, capsys):
    assert c006.AccessToken().fromString(token) is False
    assert capsys.readouterr() == ("", "")


def test_verify_signature():
    token = c007.AccessToken()
    assert token.verify_signature(CERT_OK) is False  # nothing parsed
    assert token.from_string(_rtc_token().build()) is True
    assert token.verify_signature(CERT_OK) is True
    assert (
        token.verify_signature(CERT_OK.lower()) is False
    )  # the certificate's ASCII is the key (docs/format.md, "Primitives")
    assert token.verify_signature(CERT_OK[:-1]) is False
    assert token.verify_signature("g" * 32) is False
    assert token.verify_signature(None) is False


@given(
    app_id=HEX32, cert=HEX32, issue_ts=st.integers(1, 2**32 - 1), expire=U32, channel=TEXT, uid=UID,
    account=UID, user=TEXT, role=I16, privileges=PRIVILEGES, resources=st.lists(TEXT, max_size=3),
)  # fmt: skip
def test_round_trip_of_every_service(
    app_id, cert, issue_ts, expire, channel, uid, account, user, role, privileges, resources
):
    permissions = c007.ServiceRtm2.Permissions()
    permissions.add(c007.ServiceRtm2.Permissions.kUsers, c007.ServiceRtm2.Permissions.kWrite, resources)
    services = [
        c007.ServiceStt(), c007.ServiceRtm2(user, permissions), c007.ServiceConvoAI(),
        c007.ServiceApaas(user, user, role), c007.ServiceFCdn(channel, account), c007.ServiceChat(user),
        c007.ServiceFpa(), c007.ServiceStreaming(channel, account), c007.ServiceStreaming(channel, uid),
        c007.ServiceRtm(user), c007.ServiceRtc(channel, uid),
    ]  # fmt: skip
    token = c007.AccessToken(app_id, cert, issue_ts=issue_ts, expire=expire)
    for service in services:
        for privilege, value in privileges.items():
            service.add_privilege(privilege, value)
        token.add_service(service)
    parsed = c007.AccessToken()
    assert parsed.from_string(token.build()) is True
    assert parsed.verify_signature(cert) is True
    # Types ascending, same-type services in the order added (docs/format.md, "Order").
    assert parsed.services == sorted(services, key=lambda s: s.service_type())
    assert parsed.get_services(c007.ServiceStreaming.kServiceType) == services[7:9]
    rtm2 = parsed.get_services(8)[0]
    assert rtm2.get_user_id() == user
    assert isinstance(rtm2.get_permissions(), c007.ServiceRtm2.Permissions)
    assert rtm2.get_permissions().details == {4: {1: resources}}


def test_from_string_stops_at_an_unknown_service_type():
    token = _rtc_token()
    unknown = c007.Service(UNKNOWN_SERVICE_TYPE)
    unknown.add_privilege(1, 600)
    token.add_service(unknown)
    fpa = c007.ServiceFpa()
    fpa.add_privilege(c007.ServiceFpa.kPrivilegeLogin, 0)
    token.add_service(fpa)
    parsed = c007.AccessToken()
    assert parsed.from_string(token.build()) is True
    # Wire order is Rtc(1), Fpa(4), then the unknown type, which the parser cannot skip (docs/format.md, "Parsing").
    assert [s.service_type() for s in parsed.services] == [1, 4]
    assert parsed.verify_signature(CERT_OK) is True  # the signature still covers the unknown type


def test_service_type_is_an_int_and_a_method():
    # Wire types from docs/format.md, "Services".
    expected = {
        c007.ServiceRtc: 1, c007.ServiceRtm: 2, c007.ServiceStreaming: 3, c007.ServiceFpa: 4, c007.ServiceChat: 5,
        c007.ServiceFCdn: 6, c007.ServiceApaas: 7, c007.ServiceRtm2: 8, c007.ServiceConvoAI: 9, c007.ServiceStt: 10,
    }  # fmt: skip
    for cls, value in expected.items():
        assert cls.kServiceType == value and type(cls.kServiceType) is int
        service = cls()
        assert service.service_type() == value and service.service_type == value
        assert type(service.service_type()) is int
        assert c007.AccessToken.kServices[value] is cls
    assert c007.Service(3).service_type() == 3

    class Custom(c007.Service):  # how official code declares a service of its own
        kServiceType = 12

        def __init__(self) -> None:
            super().__init__(Custom.kServiceType)

    assert Custom.kServiceType == 12 and Custom().service_type() == 12 and Custom.service_type == 12
    assert c007.ServiceEducation is c007.ServiceApaas


def test_privilege_constants_follow_the_spec():
    assert (
        c007.ServiceRtc.kPrivilegeJoinChannel,
        c007.ServiceRtc.kPrivilegePublishAudioStream,
        c007.ServiceRtc.kPrivilegePublishVideoStream,
        c007.ServiceRtc.kPrivilegePublishDataStream,
    ) == (1, 2, 3, 4)
    assert c007.ServiceRtm.kPrivilegeLogin == c007.ServiceFpa.kPrivilegeLogin == c007.ServiceRtm2.kPrivilegeLogin == 1
    streaming = c007.ServiceStreaming
    assert (streaming.kPrivilegePublishMixStream, streaming.kPrivilegePublishRawStream) == (1, 2)
    assert (c007.ServiceChat.kPrivilegeUser, c007.ServiceChat.kPrivilegeApp) == (1, 2)
    assert (c007.ServiceFCdn.kPrivilegePublish, c007.ServiceFCdn.kPrivilegePlay) == (1, 2)
    apaas = c007.ServiceApaas
    assert (apaas.kPrivilegeRoomUser, apaas.kPrivilegeUser, apaas.kPrivilegeApp) == (1, 2, 3)
    p = c007.ServiceRtm2.Permissions
    assert (p.kMessageChannels, p.kStreamChannels, p.kGroupChannels, p.kServerGroups, p.kUsers) == (0, 1, 2, 3, 4)
    assert (p.kRead, p.kWrite) == (0, 1)
    assert (
        c006.kJoinChannel,
        c006.kPublishAudioStream,
        c006.kPublishVideoStream,
        c006.kPublishDataStream,
        c006.kRtmLogin,
    ) == (1, 2, 3, 4, 1000)
    roles006 = (c_rtc006.Role_Attendee, c_rtc006.Role_Publisher, c_rtc006.Role_Subscriber, c_rtc006.Role_Admin)
    assert roles006 == (0, 1, 2, 101)
    assert c_rtm006.Role_Rtm_User == 1 and (c_rtc.Role_Publisher, c_rtc.Role_Subscriber) == (1, 2)
    assert (c007.get_version(), c007.VERSION_LENGTH, c006.getVersion()) == ("007", 3, "006")  # fmt: skip


def test_official_uid_conversion():
    # uid == 0 is the wildcard "", the string "0" is kept, numbers become decimal (docs/format.md, "User ids").
    assert c007.ServiceRtc("c", 0).uid == ""
    assert c007.ServiceRtc("c", False).uid == ""
    assert c007.ServiceRtc("c", "0").uid == "0"
    assert c007.ServiceRtc("c", 2882341273).uid == c007.ServiceRtc("c", "2882341273").uid == "2882341273"
    assert c007.ServiceRtc().uid == "" and c007.ServiceRtc().channel_name == ""
    for cls in (c007.ServiceStreaming, c007.ServiceFCdn):
        assert cls("c", 0).account == "" and cls("c", "0").account == "0" and cls("c", 7).account == "7"
    assert c006.AccessToken(uid=0).uidStr == "" and c006.AccessToken(uid="0").uidStr == "0"
    assert c006.AccessToken(uid=42).uidStr == "42"


def test_rtc_token_builder_offers_every_method_and_aliases():
    names = {
        "build_token_with_uid", "build_token_with_user_account", "build_token_with_uid_and_privilege",
        "build_token_with_user_account_and_privilege", "build_token_with_rtm", "build_token_with_rtm2",
    }  # fmt: skip
    assert names <= set(vars(c_rtc.RtcTokenBuilder))
    assert c_rtc.RtcTokenBuilder2 is c_rtc.RtcTokenBuilder
    assert c_rtm.RtmTokenBuilder2 is c_rtm.RtmTokenBuilder and c_chat.ChatTokenBuilder2 is c_chat.ChatTokenBuilder
    assert c007.AccessToken2 is c007.AccessToken
    assert issubclass(c_edu.EducationTokenBuilder, c_apaas.ApaasTokenBuilder)
    # The builder modules re-export the core module's names, as the official ones do with import *.
    assert c_rtc.ServiceRtc is c007.ServiceRtc and c_rtc006.AccessToken is c006.AccessToken


def test_every_compat_module_imports():
    for name in compat_package.MODULES:
        module = importlib.import_module(f"agora_token.compat.{name}")
        assert all(hasattr(module, attr) for attr in module.__all__)


def test_rtm_builder_with_permissions(monkeypatch):
    permissions = c007.ServiceRtm2.Permissions()
    permissions.add(permissions.kMessageChannels, permissions.kRead, ["a", "b"])
    permissions.add(permissions.kUsers, permissions.kWrite, ["u"])
    with pinned(monkeypatch, 7, 1111111):
        token = c_rtm.RtmTokenBuilder.build_token_with_permissions(APP_ID_OK, CERT_OK, "user", permissions, 600)
        default = c_rtm.RtmTokenBuilder.build_token_with_permissions(APP_ID_OK, CERT_OK, "user", None)
    parsed = c007.AccessToken()
    assert parsed.from_string(token) and parsed.verify_signature(CERT_OK)
    assert parsed._AccessToken__expire == 600
    (rtm2,) = parsed.services
    assert rtm2.privileges == {c007.ServiceRtm2.kPrivilegeLogin: 600}
    assert rtm2.get_permissions().details == {0: {0: ["a", "b"]}, 4: {1: ["u"]}}
    assert parsed.from_string(default) and parsed._AccessToken__expire == 0
    assert parsed.services[0].get_permissions().details == {}


@pytest.mark.parametrize(
    "builder, core, agent_type",
    [(c_convoai.ConvoAITokenBuilder, build_convoai_token, 9), (c_stt.SttTokenBuilder, build_stt_token, 10)],
)
@pytest.mark.parametrize("role", [1, 2])
def test_agent_builders_match_the_core_and_spec(monkeypatch, builder, core, agent_type, role):
    args = (APP_ID_OK, CERT_OK, "channel", "agent", role, 600, 500, 500, 500, 500, "agent-rtm", 400)
    with pinned(monkeypatch, 99, 1111111):
        token = builder.build_token(*args)
    expected = core(
        APP_ID_OK, CERT_OK, "channel", account="agent", rtm_user_id="agent-rtm", role=role, expire=600,
        privilege_expire=500, rtm_expire=400, issue_ts=1111111, salt=99,
    )  # fmt: skip
    assert token == expected
    parsed = c007.AccessToken()
    assert parsed.from_string(token) and parsed.verify_signature(CERT_OK)
    rtc, rtm, agent = parsed.services
    assert rtc.privileges == ({1: 500, 2: 500, 3: 500, 4: 500} if role == 1 else {1: 500})
    assert (rtm.user_id, rtm.privileges) == ("agent-rtm", {1: 400})
    assert (
        agent.service_type() == agent_type and agent.privileges == {}
    )  # an empty service (docs/format.md, "Services")


def test_agent_builder_gives_each_publish_privilege_its_value(monkeypatch):
    with pinned(monkeypatch, 3, 1111111):
        token = c_convoai.ConvoAITokenBuilder.build_token(
            APP_ID_OK, CERT_OK, "ch", 0, c_convoai.Role_Publisher, 600, 10, 20, 30, 40, "bot", 50
        )
    parsed = c007.AccessToken()
    assert parsed.from_string(token)
    assert parsed.services[0].uid == "" and parsed.services[0].privileges == {1: 10, 2: 20, 3: 30, 4: 40}


# --------------------------------------------------------------------------------------------------
# The top level of agoraiotools (issue 15, item 5) and the public pin


from agora_token.compat import agoraiotools as c_top  # noqa: E402

official_top = importlib.import_module("agoraiotools")


def test_top_level_offers_every_name_of_agoraiotools_all_as_the_same_kind():
    assert set(official_top.__all__) <= set(c_top.__all__)
    for name in official_top.__all__:
        theirs, ours = getattr(official_top, name), getattr(c_top, name)
        assert isinstance(ours, type) == isinstance(theirs, type), name
        if isinstance(theirs, type):
            public = {m for m in dir(theirs) if not m.startswith("_")}
            assert public <= {m for m in dir(ours) if not m.startswith("_")}, name
        else:
            assert ours == theirs, name  # __version__: the release mirrored


def _top_level_calls(app_id: str, cert: str) -> dict[str, Callable[[Any], str]]:
    """One call of every builder method on agoraiotools' top-level classes, for either package."""
    return {
        "RtcTokenBuilder2.build_token_with_uid": lambda m: m.RtcTokenBuilder2.build_token_with_uid(
            app_id, cert, "demo", 42, 1, 600, 500),
        "RtcTokenBuilder2.build_token_with_user_account": lambda m: m.RtcTokenBuilder2.build_token_with_user_account(
            app_id, cert, "demo", "alice", 2, 600),
        "RtcTokenBuilder2.build_token_with_uid_and_privilege":
            lambda m: m.RtcTokenBuilder2.build_token_with_uid_and_privilege(app_id, cert, "demo", 7, 600, 1, 2, 3, 4),
        "RtcTokenBuilder2.build_token_with_user_account_and_privilege":
            lambda m: m.RtcTokenBuilder2.build_token_with_user_account_and_privilege(
                app_id, cert, "demo", "bob", 600, 5, 6, 7, 8),
        "RtcTokenBuilder2.build_token_with_rtm": lambda m: m.RtcTokenBuilder2.build_token_with_rtm(
            app_id, cert, "demo", "carol", 1, 600, 300),
        "RtcTokenBuilder2.build_token_with_rtm2": lambda m: m.RtcTokenBuilder2.build_token_with_rtm2(
            app_id, cert, "demo", "dave", 1, 600, 10, 20, 30, 40, "dave-rtm", 500),
        "RtcTokenBuilder.buildTokenWithUid": lambda m: m.RtcTokenBuilder.buildTokenWithUid(
            app_id, cert, "demo", 42, 1, 1_700_000_600),
        "RtcTokenBuilder.buildTokenWithAccount": lambda m: m.RtcTokenBuilder.buildTokenWithAccount(
            app_id, cert, "demo", "alice", 2, 1_700_000_600),
        "RtmTokenBuilder.buildToken": lambda m: m.RtmTokenBuilder.buildToken(app_id, cert, "alice", 1, 1_700_000_600),
        "RtmTokenBuilder2.build_token": lambda m: m.RtmTokenBuilder2.build_token(app_id, cert, "alice", 600),
        "EducationTokenBuilder.build_room_user_token": lambda m: m.EducationTokenBuilder.build_room_user_token(
            app_id, cert, "room", "user", 1, 600),
        "EducationTokenBuilder.build_user_token": lambda m: m.EducationTokenBuilder.build_user_token(
            app_id, cert, "user", 600),
        "EducationTokenBuilder.build_app_token": lambda m: m.EducationTokenBuilder.build_app_token(app_id, cert, 600),
        "ApaasTokenBuilder.build_room_user_token": lambda m: m.ApaasTokenBuilder.build_room_user_token(
            app_id, cert, "room", "user", 2, 600),
        "ApaasTokenBuilder.build_user_token": lambda m: m.ApaasTokenBuilder.build_user_token(app_id, cert, "u", 600),
        "ApaasTokenBuilder.build_app_token": lambda m: m.ApaasTokenBuilder.build_app_token(app_id, cert, 600),
        "FpaTokenBuilder.build_token": lambda m: m.FpaTokenBuilder.build_token(app_id, cert),
    }  # fmt: skip


def test_top_level_calls_cover_every_builder_method():
    called = {name.split(".")[1] for name in _top_level_calls(APP_ID_OK, CERT_OK)}
    for name in official_top.__all__:
        value = getattr(official_top, name)
        if isinstance(value, type) and name.endswith(("Builder", "Builder2")):
            assert {m for m in vars(value) if not m.startswith("_")} <= called, name


@pytest.mark.parametrize("call", sorted(_top_level_calls(APP_ID_OK, CERT_OK)))
def test_top_level_builders_return_what_agoraiotools_returns(monkeypatch, call):
    calls = _top_level_calls(APP_ID_OK, CERT_OK)
    build, official = calls[call], calls[call]
    if call == "RtcTokenBuilder2.build_token_with_uid_and_privilege":
        # agoraiotools 0.3.4 bug: it delegates to RtcTokenBuilder.build_token_with_user_account_and_privilege,
        # which lives on RtcTokenBuilder2 only, so it raises AttributeError; compare with what it meant.
        with pytest.raises(AttributeError):
            build(official_top)
        official = lambda m: m.RtcTokenBuilder2.build_token_with_user_account_and_privilege(  # noqa: E731
            APP_ID_OK, CERT_OK, "demo", 7, 600, 1, 2, 3, 4
        )
    ours, theirs = both(monkeypatch, 12345, 1_700_000_000, lambda: build(c_top), lambda: official(official_top))
    assert ours == theirs and ours[:3] in ("006", "007")


def test_top_level_token_classes_build_and_parse_like_agoraiotools(monkeypatch):
    def build(m: Any) -> str:
        token = m.AccessToken(APP_ID_OK, CERT_OK, issue_ts=1_700_000_000, expire=600)
        service = m.AccessToken2  # agoraiotools' alias class must be a 007 token class too
        assert issubclass(service, m.AccessToken) or service is m.AccessToken
        rtc = importlib.import_module(m.AccessToken.__module__).ServiceRtc("demo", 42)
        rtc.add_privilege(1, 600)
        token.add_service(rtc)
        return token.build()

    ours, theirs = both(monkeypatch, 99, 1_700_000_000, lambda: build(c_top), lambda: build(official_top))
    assert ours == theirs
    parsed = c_top.AccessToken()
    assert parsed.from_string(theirs) and parsed.verify_signature(CERT_OK)


def test_public_pin_reproduces_agoraiotools_without_patching_ours(monkeypatch):
    from agora_token.compat import pinned as public_pinned

    with public_pinned(issue_ts=1_700_000_000, salt=4242):
        ours = c_top.RtcTokenBuilder2.build_token_with_uid(APP_ID_OK, CERT_OK, "demo", 42, 1, 600, 600)
        ours006 = c_top.RtcTokenBuilder.buildTokenWithUid(APP_ID_OK, CERT_OK, "demo", 42, 1, 1_700_000_600)
        again = c_top.RtcTokenBuilder2.build_token_with_uid(APP_ID_OK, CERT_OK, "demo", 42, 1, 600, 600)
    # agoraiotools takes its time from the clock and its salt from secrets: pin those on its side only.
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: 1_700_000_000.0)
        m.setattr(off007, "secrets", _fixed_secrets(4242))
        m.setattr(off006, "secrets", _fixed_secrets(4242))
        theirs = official_top.RtcTokenBuilder2.build_token_with_uid(APP_ID_OK, CERT_OK, "demo", 42, 1, 600, 600)
        theirs006 = official_top.RtcTokenBuilder.buildTokenWithUid(APP_ID_OK, CERT_OK, "demo", 42, 1, 1_700_000_600)
    assert ours == again == theirs
    assert ours006 == theirs006
    parsed = c007.AccessToken()
    assert parsed.from_string(ours)
    assert (parsed._AccessToken__issue_ts, parsed._AccessToken__salt) == (1_700_000_000, 4242)
    # Outside the block the salt is random again: two tokens differ.
    free = {c_top.RtcTokenBuilder2.build_token_with_uid(APP_ID_OK, CERT_OK, "demo", 42, 1, 600) for _ in range(3)}
    assert len(free) == 3


def test_public_pin_checks_its_arguments_and_nests():
    from agora_token.compat import pinned as public_pinned

    with pytest.raises(TypeError, match="^salt must be an int"):
        with public_pinned(salt=True):
            pass
    with pytest.raises(ValueError, match="^issue_ts must be between 0 and 4294967295"):
        with public_pinned(issue_ts=-1):
            pass
    with public_pinned(issue_ts=1_000_000, salt=1):
        with public_pinned(salt=2):
            token = c007.AccessToken(APP_ID_OK, CERT_OK)
            assert (token._AccessToken__issue_ts, token._AccessToken__salt) != (1_000_000, 2)
            assert token._AccessToken__salt == 2
        assert c007.AccessToken(APP_ID_OK, CERT_OK)._AccessToken__salt == 1


# --------------------------------------------------------------------------------------------------
# Gaps against the official code (issue 15, item 11)

import agora_token as at  # noqa: E402

T0 = 1_700_000_000


@pytest.mark.parametrize(
    "role, official_role",
    [(at.RtcRole.ATTENDEE, 0), ("attendee", 0), (0, 0), (at.RtcRole.ADMIN, 101), ("admin", 101), (101, 101),
     ("publisher", 1), ("subscriber", 2)],
)  # fmt: skip
@pytest.mark.parametrize("user", [42, "alice"])
def test_006_roles_attendee_and_admin_match_the_official_006_builder(monkeypatch, role, official_role, user):
    kwargs = {"uid": user} if isinstance(user, int) else {"account": user}
    ours = at.build_rtc_token(
        APP_ID_OK, CERT_OK, "demo", **kwargs, role=role, version="006", expire=DAY, privilege_expire=600,
        issue_ts=T0, salt=777,
    )  # fmt: skip
    _, theirs = both(monkeypatch, 777, T0, lambda: "", lambda: off_rtc006.RtcTokenBuilder.buildTokenWithUid(
        APP_ID_OK, CERT_OK, "demo", user, official_role, T0 + 600))  # fmt: skip
    assert ours == theirs
    parsed = at.AccessToken.parse(ours)
    publishing = official_role in c_rtc006.PUBLISHING_ROLES
    assert set(parsed.privileges) == ({1, 2, 3, 4} if publishing else {1})


@pytest.mark.parametrize("role", [at.RtcRole.ATTENDEE, "attendee", 0, at.RtcRole.ADMIN, "admin", 101])
def test_007_refuses_the_006_only_roles_naming_role(role):
    with pytest.raises(ValueError, match=r"^role (attendee \(0\)|admin \(101\)) exists in 006 tokens only"):
        at.build_rtc_token(APP_ID_OK, CERT_OK, "demo", uid=1, role=role)
    with pytest.raises(ValueError, match="^role "):
        at.build_rtc_rtm_token(APP_ID_OK, CERT_OK, "demo", uid=1, role=role)


@pytest.mark.parametrize("role", [5, -1, "host"])
def test_006_still_refuses_unknown_roles(role):
    with pytest.raises(ValueError, match="^role must be"):
        at.build_rtc_token(APP_ID_OK, CERT_OK, "demo", uid=1, role=role, version="006")


@pytest.mark.parametrize("role", [1, 2])
@pytest.mark.parametrize("user", [0, 2882341273, "alice"])
def test_pythonic_rtm2_builder_matches_official_build_token_with_rtm2(monkeypatch, role, user):
    kwargs = {"uid": user} if isinstance(user, int) else {"account": user}
    publish = {"publish_audio_expire": 20, "publish_video_expire": 30, "publish_data_expire": 40} if role == 1 else {}
    ours = at.build_rtc_rtm_token_with_privileges(
        APP_ID_OK, CERT_OK, "demo", **kwargs, role=role, expire=600, join_channel_expire=10, **publish,
        rtm_user_id="rtm-user", rtm_expire=500, issue_ts=T0, salt=31337,
    )  # fmt: skip
    _, theirs = both(monkeypatch, 31337, T0, lambda: "", lambda: off_rtc.RtcTokenBuilder2.build_token_with_rtm2(
        APP_ID_OK, CERT_OK, "demo", user, role, 600, 10, 20, 30, 40, "rtm-user", 500))  # fmt: skip
    assert ours == theirs


def test_pythonic_rtm2_builder_defaults_and_refusals():
    token = at.build_rtc_rtm_token_with_privileges(
        APP_ID_OK, CERT_OK, "demo", account="alice", expire=900, publish_video_expire=60
    )
    rtc, rtm = at.AccessToken2.parse(token).services
    assert rtc.privileges == {1: 900, 2: 900, 3: 60, 4: 900}
    assert (rtm.user_id, rtm.privileges) == ("alice", {1: 900})
    with pytest.raises(ValueError, match="^publish_audio_expire is given, but a subscriber gets no publish"):
        at.build_rtc_rtm_token_with_privileges(APP_ID_OK, CERT_OK, "demo", uid=1, role="subscriber",
                                               publish_audio_expire=5)  # fmt: skip
    with pytest.raises(TypeError, match="^join_channel_expire must be an int"):
        at.build_rtc_rtm_token_with_privileges(APP_ID_OK, CERT_OK, "demo", uid=1, join_channel_expire=True)


def test_numeric_rtm2_user_id_is_its_decimal_string():
    permissions = at.Rtm2Permissions()
    permissions.add(at.ResourceType.MESSAGE_CHANNELS, at.PermissionType.READ, ["lobby"])
    pinned_args = {"permissions": permissions, "issue_ts": T0, "salt": 5}
    assert at.build_rtm_token(APP_ID_OK, CERT_OK, 12345, **pinned_args) == at.build_rtm_token(
        APP_ID_OK, CERT_OK, "12345", **pinned_args
    )
    assert at.ServiceRtm2(12345).user_id == "12345" and at.ServiceRtm2(0).user_id == ""
    assert c007.ServiceRtm2(7).get_user_id() == "7"
    with pytest.raises(ValueError, match="^user_id must be between 1 and 4294967295"):
        at.build_rtm_token(APP_ID_OK, CERT_OK, 0, permissions=permissions)
    with pytest.raises(TypeError, match="^user_id must be a str"):
        at.build_rtm_token(APP_ID_OK, CERT_OK, True, permissions=permissions)
    with pytest.raises(TypeError, match="^user_id must be a str"):
        at.ServiceRtm2(1.0)


# Clears the process-wide RTC table, which a copy of this test on another thread fills.
@pytest.mark.thread_unsafe
@pytest.mark.parametrize("role,expire,privilege", [(True, 600, 600), (1.0, 600, 600), (1, True, 600), (1, 600, True)])
def test_rtc_uid_table_keeps_lookalikes_apart(role, expire, privilege):
    # Lookalike values (True == 1, 1.0 == 1) build a token, as officially, but in the table they are
    # keys of their own: neither they nor the exact values they equal ever stand for the other.
    exact = (1, 600, 600)
    wire.rtc_table().clear()
    assert c_rtc.RtcTokenBuilder.build_token_with_uid(APP_ID_OK, CERT_OK, "demo", 1, role, expire, privilege)
    assert wire.rtc_token(wire.OFFICIAL_RULES, APP_ID_OK, CERT_OK, "demo", 2, *exact, "007") is None
    wire.rtc_table().clear()
    assert c_rtc.RtcTokenBuilder.build_token_with_uid(APP_ID_OK, CERT_OK, "demo", 1, *exact)
    assert wire.rtc_token(wire.OFFICIAL_RULES, APP_ID_OK, CERT_OK, "demo", 2, role, expire, privilege, "007") is None
    assert wire.rtc_token(wire.OFFICIAL_RULES, APP_ID_OK, CERT_OK, "demo", 2, *exact, "007") is not None
