"""What AgoraIO-Community/agora-token-service answers to a request, and where ``agora-token serve`` differs.

The peer is a Go service (gin, go-tokenbuilder 1.3.0). This module states its behaviour, read from its
handlers at the commit named in ``tests/data/agora_token_service_cases.json``, in our own words and
code: which route a path reaches, how it reads each parameter (Go's ``strconv.ParseUint``, then a
cast to 32 bits that wraps), which answer and which token that gives. A token is described by what a
parser sees in it (its lifetime and its services, each with its privileges), not by its bytes, which
hold a random salt and the time.

``peer_answer`` is the peer alone. ``expected_here`` applies the documented differences (docs/server/differences.md,
"Differences from agora-token-service"): each names the row of that table it follows, so a difference
that is not in the table cannot pass the tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Optional
from urllib.parse import parse_qs, unquote, urlsplit

from agora_token.services import ChatPrivilege, RtcPrivilege, RtmPrivilege

U32 = 0xFFFFFFFF
U64 = 0xFFFFFFFFFFFFFFFF
#: Agora's limits (docs/format.md, "Limits Agora documents"), which the peer does not check.
MAX_CHANNEL_BYTES = 64
MAX_ACCOUNT_BYTES = 255
MAX_LIFETIME = 86400
CHANNEL_ALPHABET = re.compile(r"[a-zA-Z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}|~,]+\Z")

# Rows of the "Differences from agora-token-service" table (docs/server/differences.md), by their first words.
UID_ROW = "A uid above 4294967295"
CHANNEL_ROW = "A channel Agora would refuse"
ACCOUNT_ROW = "A user account or user id over 255 bytes, or empty"
LIFETIME_ROW = "A lifetime above 86400 s, or negative"
EXPIRY_ZERO_ROW = "`?expiry=0`"
SDK_ROLE_ROW = "Role `host` or `broadcaster`"
OTHER_ROLE_ROW = "Any other role"
RTM_ZERO_ROW = "The RTM user id `0`"
JSON_ROW = "POST /getToken's JSON"
ROWS = (UID_ROW, CHANNEL_ROW, ACCOUNT_ROW, LIFETIME_ROW, EXPIRY_ZERO_ROW, SDK_ROLE_ROW, OTHER_ROLE_ROW, RTM_ZERO_ROW,
        JSON_ROW)  # fmt: skip

PUBLISH = (RtcPrivilege.PUBLISH_AUDIO_STREAM, RtcPrivilege.PUBLISH_VIDEO_STREAM, RtcPrivilege.PUBLISH_DATA_STREAM)


@dataclass(frozen=True)
class Service:
    """One service of a token: ("rtc", channel, uid) / ("rtm", user) / ("chat", user), and its privileges."""

    kind: str
    fields: tuple[str, ...]
    privileges: tuple[int, ...]


@dataclass(frozen=True)
class Token:
    """A token as a parser sees it; every privilege lasts the token's lifetime (both servers do so)."""

    expire: int
    services: tuple[Service, ...]


@dataclass
class Answer:
    """A status, the answer's JSON keys (None: plain text), its tokens by key, and the table rows involved."""

    status: int
    keys: Optional[tuple[str, ...]] = None
    tokens: dict[str, Token] = field(default_factory=dict)
    #: Why ``agora-token serve`` answers otherwise: rows of the differences table, each with its effect.
    flaws: list[tuple[str, str]] = field(default_factory=list)


def _parse_uint(text: str) -> Optional[int]:
    """Go's strconv.ParseUint(text, 10, 64): ASCII digits only, at most 2^64-1; None if it fails."""
    if not re.fullmatch(r"[0-9]+", text):
        return None
    value = int(text)
    return value if value <= U64 else None


def _uid_string(uid: int) -> str:
    return str(uid) if uid else ""


def _rtc(channel: str, user: str, publisher: bool) -> Service:
    privileges = (RtcPrivilege.JOIN_CHANNEL, *(PUBLISH if publisher else ()))
    return Service("rtc", (channel, user), tuple(int(p) for p in privileges))


def _rtm(user: str, channel: str) -> tuple[Service, ...]:
    """go-tokenbuilder's RTM token: with a channel, also RTC join and data-stream publishing there."""
    login = Service("rtm", (user,), (int(RtmPrivilege.LOGIN),))
    if not channel:
        return (login,)
    stream = Service("rtc", (channel, user), (int(RtcPrivilege.JOIN_CHANNEL), int(RtcPrivilege.PUBLISH_DATA_STREAM)))
    return (stream, login)


class _Flaws:
    """Collects which rows of the differences table a request touches."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, row: str, effect: str = "refused") -> None:
        if (row, effect) not in self.found:
            self.found.append((row, effect))

    def channel(self, channel: str) -> None:
        size = len(channel.encode())
        if not channel or size > MAX_CHANNEL_BYTES or not CHANNEL_ALPHABET.match(channel):
            self.add(CHANNEL_ROW)

    def account(self, account: str) -> None:
        if not account or len(account.encode()) > MAX_ACCOUNT_BYTES:
            self.add(ACCOUNT_ROW)

    def rtm_user(self, user: str) -> None:
        self.account(user)
        if user == "0":
            self.add(RTM_ZERO_ROW)

    def lifetime(self, value: int, get: bool) -> int:
        """The lifetime the peer puts in the token (32 bits), noting a wrapped, over-24-h or zero one."""
        if value < 0 or value > MAX_LIFETIME:
            self.add(LIFETIME_ROW)
        wrapped = value & U32
        if get and wrapped == 0 and value == 0:
            self.add(EXPIRY_ZERO_ROW, "one hour")
        return wrapped

    def role(self, role: str) -> bool:
        """Whether the peer grants publishing (only for exactly "publisher")."""
        if role in ("host", "broadcaster"):
            self.add(SDK_ROLE_ROW, "publisher")
        elif role not in ("publisher", "subscriber", "audience"):
            self.add(OTHER_ROLE_ROW)
        return role == "publisher"


# --------------------------------------------------------------------------------------------------
# GET routes (gin: a ":name" segment matches anything without "/", the empty string too)

_GET_ROUTES = [
    ("rtc", ["rtc", ":channel", ":role", ":kind", ":rtcuid", ""]),
    ("rtm", ["rtm", ":rtmuid", ""]),
    ("rte", ["rte", ":channel", ":role", ":kind", ":rtcuid", ""]),
    ("rte", ["rte", ":channel", ":role", ":kind", ":rtcuid", ":rtmuid", ""]),
    ("chat", ["chat", "app", ""]),
    ("chat", ["chat", "account", ":chatid", ""]),
    ("ping", ["ping"]),
]


def _route(path: str) -> Optional[tuple[str, dict[str, str]]]:
    segments = path.split("/")[1:]
    for name, pattern in _GET_ROUTES:
        if len(pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        for want, got in zip(pattern, segments):
            if want.startswith(":"):
                params[want[1:]] = got
            elif want != got:
                break
        else:
            if name == "chat":
                params["chat_kind"] = segments[1]
            return name, params
    return None


def _expiry(query: dict[str, list[str]]) -> Optional[int]:
    """``c.DefaultQuery("expiry", "3600")`` through ParseUint: None when it does not parse."""
    return _parse_uint(query["expiry"][0] if "expiry" in query else "3600")


def _get(target: str) -> Answer:
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    found = _route(unquote(parts.path))
    if found is None:
        return Answer(404)
    name, p = found
    flaws = _Flaws()
    if name == "ping":
        return Answer(200, ("message",))
    expiry = _expiry(query)
    if name == "rtm":
        user = p["rtmuid"]
        if expiry is None or user in ("", "0"):
            return Answer(400, ("message", "status"))
        flaws.account(user)
        expire = flaws.lifetime(expiry, get=True)
        return Answer(200, ("rtmToken",), {"rtmToken": Token(expire, _rtm(user, ""))}, flaws.found)
    if name == "chat":
        user = p.get("chatid", "")
        if expiry is None or (p["chat_kind"] == "account" and user == ""):
            return Answer(400, ("message", "status"))
        expire = flaws.lifetime(expiry, get=True)
        if p["chat_kind"] == "app":
            service = Service("chat", ("",), (int(ChatPrivilege.APP),))
        else:
            flaws.account(user)
            service = Service("chat", (user,), (int(ChatPrivilege.USER),))
        return Answer(200, ("chatToken",), {"chatToken": Token(expire, (service,))}, flaws.found)
    # rtc and rte: parseRtcParams
    user = p["rtcuid"] or "0"  # an empty id becomes "0" whatever its kind
    rtm_user = p.get("rtmuid", "")
    if rtm_user == "" and user != "0":
        rtm_user = user
    if expiry is None or (name == "rte" and rtm_user == ""):
        return Answer(400, ("message", "status"))
    publisher = flaws.role(p["role"])
    if p["kind"] == "userAccount":
        if p["rtcuid"] == "":
            flaws.add(ACCOUNT_ROW)  # the peer's token is for the account "0"
        flaws.account(user)
        rtc_user = user
    elif p["kind"] == "uid":
        uid = _parse_uint(user)
        if uid is None:
            return Answer(400, ("error", "status"))
        if uid > U32:
            flaws.add(UID_ROW)
        rtc_user = _uid_string(uid & U32)
    else:
        return Answer(400, ("error", "status"))
    flaws.channel(p["channel"])
    expire = flaws.lifetime(expiry, get=True)
    tokens = {"rtcToken": Token(expire, (_rtc(p["channel"], rtc_user, publisher),))}
    if name == "rtc":
        return Answer(200, ("rtcToken",), tokens, flaws.found)
    if "rtmuid" in p:
        flaws.rtm_user(rtm_user)
    else:
        flaws.account(rtm_user)
    tokens["rtmToken"] = Token(expire, _rtm(rtm_user, p["channel"]))
    return Answer(200, ("rtcToken", "rtmToken"), tokens, flaws.found)


# --------------------------------------------------------------------------------------------------
# POST /getToken (encoding/json into a struct of four strings and an int)

_FIELDS = {"tokentype": "tokenType", "channel": "channel", "role": "role", "uid": "uid", "expire": "expire"}


class _Number(str):
    """A JSON number's text, as written (Go decodes it into the field's type, or fails)."""


def _decode(body: str, flaws: _Flaws) -> Optional[dict[str, Any]]:
    """The request struct as Go decodes it; None where Go's decoder fails (the peer then answers 400)."""
    try:
        data = json.loads(body, parse_int=_Number, parse_float=_Number, parse_constant=_Number)
    except ValueError:
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        return None
    fields: dict[str, Any] = {}
    for key, value in data.items():
        name = _FIELDS.get(key.lower())  # Go matches a struct field's name case-insensitively
        if name is None:
            continue
        if key != name:
            flaws.add(JSON_ROW, "refused")  # here the keys are exact
        if value is None:
            continue
        if name == "expire":
            if not isinstance(value, _Number) or not re.fullmatch(r"-?[0-9]+", value):
                return None
            number = int(value)
            if not -(2**63) <= number < 2**63:
                return None
            fields[name] = number
        elif isinstance(value, str) and not isinstance(value, _Number):
            fields[name] = value
        else:
            return None
    return fields


def _post(body: str) -> Answer:
    flaws = _Flaws()
    req = _decode(body, flaws)
    if req is None:
        return Answer(400)
    kind = req.get("tokenType", "")
    channel, uid, role = req.get("channel", ""), req.get("uid", ""), req.get("role", "")
    expire_in = req.get("expire", 0)
    if kind not in ("rtc", "rtm", "chat"):
        return Answer(400)
    if kind == "rtc" and (channel == "" or uid == ""):
        return Answer(400)
    if kind == "rtm" and uid == "":
        return Answer(400)
    expire = flaws.lifetime(expire_in or 3600, get=False)
    if kind == "rtc":
        publisher = flaws.role(role) if role else False  # no role: a subscriber
        flaws.channel(channel)
        number = _parse_uint(uid)
        if number is None:
            if re.fullmatch(r"[0-9]+", uid):
                flaws.add(UID_ROW)  # digits beyond 64 bits: the peer takes them for an account
            flaws.account(uid)
            user = uid
        else:
            if number > U32:
                flaws.add(UID_ROW)
            user = _uid_string(number & U32)
        services: tuple[Service, ...] = (_rtc(channel, user, publisher),)
    elif kind == "rtm":
        flaws.rtm_user(uid)
        if channel:
            flaws.channel(channel)
        services = _rtm(uid, channel)
    elif uid == "":
        services = (Service("chat", ("",), (int(ChatPrivilege.APP),)),)
    else:
        flaws.account(uid)
        services = (Service("chat", (uid,), (int(ChatPrivilege.USER),)),)
    return Answer(200, ("token",), {"token": Token(expire, services)}, flaws.found)


def peer_answer(method: str, target: str, body: Optional[str] = None) -> Answer:
    """What agora-token-service answers (a 200's tokens included) to ``method target`` with ``body``."""
    if target == "/getToken":
        return _post(body or "") if method == "POST" else Answer(404)
    return _get(target) if method == "GET" else Answer(404)


def expected_here(method: str, target: str, body: Optional[str] = None) -> Answer:
    """What ``agora-token serve`` answers: the peer's answer, with the table's differences applied."""
    answer = peer_answer(method, target, body)
    if answer.status != 200 or not answer.flaws:
        return answer
    if any(effect == "refused" for _, effect in answer.flaws):
        return Answer(400, ("error", "message", "status"), flaws=answer.flaws)
    tokens = {}
    for key, token in answer.tokens.items():
        expire = 3600 if token.expire == 0 else token.expire
        services = []
        for service in token.services:
            if service.kind == "rtc" and (SDK_ROLE_ROW, "publisher") in answer.flaws and key != "rtmToken":
                service = _rtc(service.fields[0], service.fields[1], True)
            services.append(service)
        tokens[key] = replace(token, expire=expire, services=tuple(services))
    return replace(answer, tokens=tokens)
