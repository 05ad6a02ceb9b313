"""The HTTP routes: agora-token-service's token routes, plus /healthz, /metrics and /openapi.json.

Every input is read here and checked with ``agora_token.validation``; tokens come from the Pythonic
builders, and the one shape they lack (an RTM login that also joins a stream channel, which
agora-token-service issues) from the token model. A bad input raises ``BadRequest`` (answered 400 by
the app); the builders' ``ValueError``/``TypeError`` name the argument and never hold the certificate.
Where this server answers otherwise than agora-token-service, README's "Differences from
agora-token-service" says so and why.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import _backend
from .._version import __version__
from ..builders import RtcRole, build_chat_app_token, build_chat_user_token, build_rtc_token, build_rtm_token
from ..services import RtcPrivilege, RtmPrivilege, ServiceRtc, ServiceRtm
from ..token007 import AccessToken2
from ..validation import DEFAULT_EXPIRE, MAX_LIFETIME, check_account, check_channel, check_token_lifetime, check_uid
from .auth import ClaimNames
from .certificate import SigningCertificate
from .metrics import CONTENT_TYPE, Metrics
from .middleware import API_KEY_CALLER, CALLER, ENCODED_SLASH
from .policy import Ask, Refused, check
from .request import TokenRequest

#: A getToken body is a few short fields: anything near this size is not a token request.
MAX_BODY_BYTES = 16 * 1024
TOKEN_TYPES = ("rtc", "rtm", "chat")
#: The role words a client may send: agora-token-service's two, and the RTC SDK's names for them
#: (a host or broadcaster publishes; an audience member watches). Any other word is refused rather
#: than guessed at, so that no token grants more than was asked for.
ROLES = {
    "publisher": RtcRole.PUBLISHER, "host": RtcRole.PUBLISHER, "broadcaster": RtcRole.PUBLISHER,
    "subscriber": RtcRole.SUBSCRIBER, "audience": RtcRole.SUBSCRIBER,
}  # fmt: skip
ROLE_WORDS = "publisher, host or broadcaster (to publish); subscriber or audience (to join only)"
USER_KINDS = ("uid", "userAccount")
# ASCII digits only: str.isdigit() would also take "²" or Arabic-Indic digits, which int() mishandles.
_DIGITS = re.compile(r"[0-9]+\Z")
#: A getToken body is flat: this is far more nesting than any client needs, and far less than any
#: Python's json recursion limit (which differs between versions, as does what happens beyond it).
MAX_JSON_DEPTH = 32
#: Digits in one JSON number: a uid has 10, a lifetime 5; Python's own int limit (4300, from 3.11) is
#: not on every version, and its error is the interpreter's wording.
MAX_JSON_NUMBER_DIGITS = 64
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_LONG_NUMBER = re.compile(f"[0-9]{{{MAX_JSON_NUMBER_DIGITS + 1}}}")
_OPEN_OR_CLOSE = re.compile(r"[\[\]{}]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class BadRequest(ValueError):
    """The request is malformed; the message names what is wrong and is sent as ``{"error": ...}``."""


@dataclass(frozen=True)
class RouteContext:
    """What every token route needs of its app, resolved once when the app is made."""

    app_id: str
    #: The certificate to sign with, read once per request (``value``), so that a rotation never splits one.
    certificate: SigningCertificate
    metrics: Metrics
    #: The claim names of the user policy; None when user authorization is off.
    claim_names: Optional[ClaimNames]


def _credentials(request: TokenRequest) -> tuple[str, str]:
    """(App ID, the certificate to sign with now): read once per request, so that a rotation never splits one."""
    context = request.context
    return context.app_id, context.certificate.value


def _metrics(request: TokenRequest) -> Metrics:
    return request.context.metrics  # type: ignore[no-any-return]


def authorize(request: TokenRequest, ask: Ask) -> None:
    """The one place the user policy applies: before a token is built, once the request is understood.

    Nothing to do when user authorization is off, or for a backend that gave the API key; otherwise
    the claims the Gate verified must allow ``ask`` (``policy.Refused``, answered 403).
    """
    names = request.context.claim_names
    if names is None:
        return
    caller = request.scope.get(CALLER)
    if caller == API_KEY_CALLER:
        return
    if not isinstance(caller, dict):  # the Gate admits no one else; refuse rather than trust a gap
        raise Refused("user", "no verified user for this request")
    check(caller, ask, names)


def _int_from_text(name: str, value: str) -> int:
    text = value.strip()
    negative = text.startswith("-")
    if not _DIGITS.match(text[1:] if negative else text):
        raise BadRequest(f"{name} must be a whole number, got {value[:40]!r}")
    if len(text) > 12:  # far above any u32 or lifetime; spares int() a 4,300-digit string
        raise BadRequest(f"{name} is out of range")
    return int(text)


def parse_expire(value: object, name: str) -> int:
    """A lifetime in seconds: absent, null or 0 → 3600 (as agora-token-service), else 1..86400."""
    if value is None or value == "":
        return DEFAULT_EXPIRE
    if isinstance(value, str):
        value = _int_from_text(name, value)
    elif isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be a whole number of seconds, got {type(value).__name__}")
    # 0 is Go's zero value: agora-token-service reads a missing/zero expiry as the default, and so
    # do the API and the CLI (one rule: validation.check_token_lifetime).
    return check_token_lifetime(name, value, DEFAULT_EXPIRE)


def parse_role(value: object, name: str = "role") -> RtcRole:
    """One of ``ROLES``' words (exactly as written there), else a BadRequest that lists them."""
    role = ROLES.get(value) if isinstance(value, str) else None
    if role is None:
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        raise BadRequest(f"{name} must be {ROLE_WORDS}; got {shown!r}")
    return role


def parse_numeric_uid(value: str, name: str = "uid") -> int:
    """A uid from text: ASCII digits, 0..2^32-1; empty is 0 (any user), as in agora-token-service."""
    if value == "":
        return 0
    if not _DIGITS.match(value):
        raise BadRequest(f"{name} must be a number (0..4294967295) when the user is given as 'uid'")
    return check_uid(_int_from_text(name, value), name)


def check_rtm_user(value: object, name: str) -> str:
    """An RTM user id: an account (1..255 bytes), and not "0", which agora-token-service refuses too."""
    user = check_account(value, name)
    if user == "0":
        raise BadRequest(f"{name} must not be '0': that is no RTM user id")
    return user


#: The builders' RTC user: ``(uid, None)`` or ``(None, account)``.
RtcUser = tuple[Optional[int], Optional[str]]


def parse_rtc_user(kind: str, value: str) -> RtcUser:
    """The builder's ``uid=`` or ``account=`` argument from a {uid|userAccount} path segment."""
    if kind == "uid":
        return parse_numeric_uid(value), None
    if kind == "userAccount":
        return None, check_account(value, "userAccount")
    raise BadRequest(f"the user kind must be 'uid' or 'userAccount', got {kind[:40]!r}")


def path_segments(request: TokenRequest, names: list[str]) -> dict[str, str]:
    """The path parameters ``names`` (the last segments of the path), decoded strictly from the raw path.

    uvicorn decodes the path leniently: an invalid UTF-8 sequence such as ``%ff`` becomes U+FFFD and a
    stray ``%`` stays as it is. Here either is a 400 naming the segment, and so is an encoded ``/``
    (the router saw it still encoded: ``middleware.KeepEncodedSlashes``).
    """
    raw = request.scope.get("raw_path")
    if not isinstance(raw, bytes) or b"%" not in raw:  # nothing was percent-decoded: the router's values
        return {name: request.path_params[name] for name in names}
    text = raw.decode("latin-1")
    raw_segments = (text[:-1] if text.endswith("/") else text).split("/")
    values = {}
    for name, segment in zip(names, raw_segments[-len(names) :]):
        if ENCODED_SLASH.search(segment):
            raise BadRequest(f"{name} contains an encoded '/' (%2F), which no {name} may hold")
        if _BAD_PERCENT.search(segment):
            raise BadRequest(f"{name} has a malformed percent-encoding (a '%' must be followed by two hex digits)")
        try:
            values[name] = unquote_to_bytes(segment).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"{name} is not valid UTF-8 once percent-decoded") from None
    return values


def _query_expiry(request: TokenRequest) -> int:
    """``?expiry=`` (agora-token-service's name) or ``?expire=`` (getToken's): both mean the lifetime.

    ``?expire=`` used to be ignored without a word, giving a one-hour token to a client that asked for
    another lifetime; two different values are refused rather than one chosen.
    """
    if not request.scope.get("query_string"):  # the usual token request: the default lifetime
        return DEFAULT_EXPIRE
    expiry, expire = request.query("expiry"), request.query("expire")
    if len(expiry) + len(expire) > 1 and len(set(expiry + expire)) > 1:
        raise BadRequest("give the lifetime once: expiry and expire are the same parameter")
    if expire and not expiry:
        return parse_expire(expire[0], "expire")
    return parse_expire(expiry[0] if expiry else None, "expiry")


def _body_too_large() -> BadRequest:
    return BadRequest(f"the request body is larger than {MAX_BODY_BYTES} bytes")


async def _read_body(request: TokenRequest) -> bytes:
    # Read with a cap: a client must not make the server buffer an unbounded body.
    declared = request.header(b"content-length") or ""
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _body_too_large()
    return await request.body(MAX_BODY_BYTES, _body_too_large)


def _check_json_shape(text: str) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and numbers longer than MAX_JSON_NUMBER_DIGITS."""
    # Counting in the raw text overestimates (strings may hold brackets and digits): it is exact
    # enough to let the usual small body through without a closer look.
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH and not _LONG_NUMBER.search(text):
        return
    bare = _JSON_STRING.sub('""', text)  # string contents are neither nesting nor numbers
    if _LONG_NUMBER.search(bare):
        raise BadRequest(f"malformed JSON body: a number is longer than {MAX_JSON_NUMBER_DIGITS} digits")
    depth = 0
    for match in _OPEN_OR_CLOSE.finditer(bare):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise BadRequest(f"malformed JSON body: nested more than {MAX_JSON_DEPTH} levels deep")
        else:
            depth -= 1


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; every failure is a BadRequest in this module's words, on every Python."""
    if not body.strip():
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("malformed JSON body: not UTF-8") from None
    _check_json_shape(text)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # Not json's message: its wording and the position it reports differ between Python versions.
        raise BadRequest("malformed JSON body: not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest(f"the request body must be a JSON object, not {type(data).__name__}")
    return data


def _uid_text(data: dict[str, Any]) -> Optional[str]:
    """The request's ``uid`` as text (a JSON number is accepted too); None when absent or empty."""
    uid = data.get("uid")
    if uid is None or uid == "":
        return None
    if isinstance(uid, bool) or not isinstance(uid, (int, str)):
        raise BadRequest(f"uid must be a string (or a whole number), not {type(uid).__name__}")
    if isinstance(uid, int):
        return str(check_uid(uid))
    return uid


def _rtc_user_from_text(uid: Optional[str]) -> RtcUser:
    # agora-token-service: digits are a numeric uid, anything else a user account; none is uid 0 (anyone).
    if uid is None:
        return 0, None
    if _DIGITS.match(uid):
        return check_uid(_int_from_text("uid", uid)), None
    return None, check_account(uid, "uid")


def _role(data: dict[str, Any]) -> RtcRole:
    """The body's role; none (absent, null or "") is a subscriber, as in agora-token-service."""
    role = data.get("role")
    return RtcRole.SUBSCRIBER if role is None or role == "" else parse_role(role)


async def get_token(request: TokenRequest) -> dict[str, str]:
    """POST /getToken: {tokenType, channel, role, uid, expire} → {"token": ...}."""
    data = _json_object(await _read_body(request))
    token_type = data.get("tokenType")
    if token_type is None or token_type == "":
        raise BadRequest("tokenType is required: 'rtc', 'rtm' or 'chat'")
    if token_type not in TOKEN_TYPES:
        shown = token_type[:40] if isinstance(token_type, str) else type(token_type).__name__
        raise BadRequest(f"tokenType must be 'rtc', 'rtm' or 'chat', got {shown!r}")
    expire = parse_expire(data.get("expire"), "expire")
    uid = _uid_text(data)
    app_id, certificate = _credentials(request)
    channel = data.get("channel")
    channel = None if channel is None or channel == "" or token_type == "chat" else check_channel(channel, "channel")
    if token_type == "rtc":
        if channel is None:
            raise BadRequest("channel is required for an rtc token")
        if uid is None:
            raise BadRequest('uid is required for an rtc token ("0" lets any user join)')
        user_uid, account = _rtc_user_from_text(uid)
        role = _role(data)
        authorize(request, Ask((str(user_uid) if account is None else account,), channel,
                               role is RtcRole.PUBLISHER))  # fmt: skip
        token = build_rtc_token(
            app_id, certificate, channel, uid=user_uid, account=account, role=role, expire=expire
        )  # fmt: skip
    elif token_type == "rtm":
        if uid is None:
            raise BadRequest("uid is required for an rtm token (the RTM user id)")
        rtm_user = check_rtm_user(uid, "uid")
        authorize(request, Ask((rtm_user,), channel))
        token = rtm_login(app_id, certificate, rtm_user, expire, channel)
    elif uid is None:  # chat without a user: the app token for Chat's REST API, as agora-token-service
        authorize(request, Ask(chat_app=True))
        token = build_chat_app_token(app_id, certificate, expire=expire)
    else:
        user = check_account(uid, "uid")
        authorize(request, Ask((user,)))
        token = build_chat_user_token(app_id, certificate, user, expire=expire)
    _metrics(request).token_issued(token_type)
    return {"token": token}


def rtm_login(app_id: str, certificate: str, user: str, expire: int, channel: Optional[str] = None) -> str:
    """An RTM login token for ``user``; with ``channel``, it also joins that channel and sends data there.

    agora-token-service's RTM token with a channel (POST /getToken, and the RTM token of /rte/) is so:
    the RTC join and data-stream privileges in the channel are what an RTM stream channel asks for.
    """
    if channel is None:
        return build_rtm_token(app_id, certificate, user, expire=expire)
    token = AccessToken2(app_id, certificate, expire=expire)
    stream = ServiceRtc(channel, user)
    stream.add_privilege(RtcPrivilege.JOIN_CHANNEL, expire)
    stream.add_privilege(RtcPrivilege.PUBLISH_DATA_STREAM, expire)
    login = ServiceRtm(user)
    login.add_privilege(RtmPrivilege.LOGIN, expire)
    token.add_service(stream)
    token.add_service(login)
    return token.build()


def _rtc(request: TokenRequest, credentials: tuple[str, str], channel: str, role: str, kind: str, user: str,
         expire: int, also: tuple[str, ...] = ()) -> str:  # fmt: skip
    """An RTC token, once the policy allows it (``also``: other users the same request asks a token for)."""
    rtc_role = parse_role(role)
    uid, account = parse_rtc_user(kind, user)
    authorize(request, Ask((str(uid) if account is None else account,) + also, channel, rtc_role is RtcRole.PUBLISHER))
    app_id, certificate = credentials
    token = build_rtc_token(app_id, certificate, channel, uid=uid, account=account, role=rtc_role, expire=expire)
    _metrics(request).token_issued("rtc")
    return token


async def rtc_token(request: TokenRequest) -> dict[str, str]:
    """GET /rtc/{channel}/{role}/{tokentype}/{uid}/ → {"rtcToken": ...}."""
    p = path_segments(request, ["channel", "role", "tokentype", "uid"])
    expire = _query_expiry(request)
    channel = check_channel(p["channel"], "channel")
    token = _rtc(request, _credentials(request), channel, p["role"], p["tokentype"], p["uid"], expire)
    return {"rtcToken": token}


async def rtm_token(request: TokenRequest) -> dict[str, str]:
    """GET /rtm/{uid}/ → {"rtmToken": ...}."""
    return {"rtmToken": _one_user_token(request, check_rtm_user, rtm_login, "rtm")}


def _one_user_token(request: TokenRequest, check: Callable[[str, str], str],
                    build: Callable[[str, str, str, int], str], service: str) -> str:  # fmt: skip
    """The token of the one user the path's ``{uid}`` names (an RTM login, a Chat user), once the policy allows it."""
    uid = path_segments(request, ["uid"])["uid"]
    expire = _query_expiry(request)
    user = check(uid, "uid")
    authorize(request, Ask((user,)))
    token = build(*_credentials(request), user, expire)
    _metrics(request).token_issued(service)
    return token


async def rte_token(request: TokenRequest) -> dict[str, str]:
    """GET /rte/{channel}/{role}/{tokentype}/{rtcid}/[{rtmid}/] → {"rtcToken": ..., "rtmToken": ...}.

    Without ``rtmid`` (or with an empty one) the RTC user is the RTM user too, as in
    agora-token-service, which refuses that when the RTC user is 0 or empty (anyone is no RTM user).
    """
    names = ["channel", "role", "tokentype", "rtcid"]
    with_rtm = "rtmid" in request.path_params
    p = path_segments(request, names + ["rtmid"] if with_rtm else names)
    expire = _query_expiry(request)
    rtm_id = p.get("rtmid", "")
    if rtm_id == "":
        if p["rtcid"] in ("", "0"):
            raise BadRequest("rtmid is required when rtcid is 0 or empty: /rte/{channel}/{role}/{tokentype}/"
                             "{rtcid}/{rtmid}/")  # fmt: skip
        rtm_id = p["rtcid"]
    # Check everything before building anything, so a bad request never counts a token.
    rtm_user = check_rtm_user(rtm_id, "rtmid" if with_rtm and p["rtmid"] else "rtcid")
    channel = check_channel(p["channel"], "channel")
    credentials = _credentials(request)  # one certificate for both tokens, even mid-rotation
    rtc = _rtc(request, credentials, channel, p["role"], p["tokentype"], p["rtcid"], expire, also=(rtm_user,))
    rtm = rtm_login(*credentials, rtm_user, expire, channel)
    _metrics(request).token_issued("rtm")
    return {"rtcToken": rtc, "rtmToken": rtm}


async def chat_app_token(request: TokenRequest) -> dict[str, str]:
    """GET /chat/app/ → {"chatToken": ...} for Chat's REST API."""
    expire = _query_expiry(request)
    authorize(request, Ask(chat_app=True))
    token = build_chat_app_token(*_credentials(request), expire=expire)
    _metrics(request).token_issued("chat")
    return {"chatToken": token}


async def chat_user_token(request: TokenRequest) -> dict[str, str]:
    """GET /chat/account/{uid}/ → {"chatToken": ...} for one Chat user."""
    return {"chatToken": _one_user_token(request, check_account, _chat_user, "chat")}


def _chat_user(app_id: str, certificate: str, user: str, expire: int) -> str:
    return build_chat_user_token(app_id, certificate, user, expire=expire)


async def ping(request: Request) -> Response:
    """GET /ping → {"message": "pong"}, as agora-token-service."""
    return JSONResponse({"message": "pong"})


async def healthz(request: Request) -> Response:
    """GET /healthz: the server is up and configured."""
    metrics: Metrics = request.app.state.metrics
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "backend": _backend.name,
            "uptime_seconds": round(time.time() - metrics.started, 3),
            "max_expire_seconds": MAX_LIFETIME,
        }
    )


async def metrics(request: Request) -> Response:
    """GET /metrics: Prometheus text exposition."""
    return Response(request.app.state.metrics.render(), headers={"content-type": CONTENT_TYPE})


async def openapi(request: Request) -> Response:
    """GET /openapi.json: the OpenAPI 3 document of this server."""
    return JSONResponse(request.app.state.openapi)
