"""The token server over real HTTP on 127.0.0.1: every route, every refusal, CORS, API key, metrics,
secrets kept out of answers and logs, startup refusal, SIGTERM, and schemathesis on the OpenAPI document.

In-process servers run uvicorn in a thread; the startup, shutdown and worker tests run ``serve`` in a
subprocess (tests/processes.py: its own process group, killed whole), which inherits the backend. HTTP
sits above the kernel, so the tests run once, on the kernel the package chose (conftest.py); /healthz,
which names the kernel in use, runs on both.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Optional

import pytest

httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from agora_token import AccessToken2  # noqa: E402
from agora_token.server import ConfigError, Settings, create_app  # noqa: E402
from agora_token.server.config import parse_origins, resolve_port  # noqa: E402
from agora_token.server.logs import GUARDED_LOGGERS, RedactSecrets  # noqa: E402
from agora_token.server.openapi import build_openapi  # noqa: E402
from agora_token.services import (  # noqa: E402
    ChatPrivilege,
    RtcPrivilege,
    RtmPrivilege,
    ServiceChat,
    ServiceRtc,
    ServiceRtm,
)

from .common import APP_ID, CERT  # noqa: E402

API_KEY = "test-key-0123456789abcdef"
ALLOWED = "https://app.example.com"
PUBLISH = {RtcPrivilege.PUBLISH_AUDIO_STREAM, RtcPrivilege.PUBLISH_VIDEO_STREAM, RtcPrivilege.PUBLISH_DATA_STREAM}


# --------------------------------------------------------------------------------------------------
# servers and helpers


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def running(settings: Settings) -> Iterator[tuple[str, Any]]:
    """A real uvicorn server for ``create_app(settings)`` on a loopback port, in a thread."""
    app = create_app(settings)
    sock = _socket()  # bound before the server starts: no race for the port
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=2)
    with serving_in_thread(config, sock):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app


@contextlib.contextmanager
def serving_in_thread(config: Any, sock: socket.socket) -> Iterator[None]:
    """``uvicorn.Server(config)`` on the bound ``sock`` in a daemon thread: started, then stopped and closed."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    """A server with default settings: any origin, no API key."""
    with running(Settings(app_id=APP_ID, app_certificate=CERT)) as (url, _):
        yield url


@pytest.fixture(scope="module")
def guarded() -> Iterator[str]:
    """A server that allows one origin and requires an API key."""
    settings = Settings(app_id=APP_ID, app_certificate=CERT, cors_allow_origins=(ALLOWED, "http://localhost:3000"),
                        api_key=API_KEY)  # fmt: skip
    with running(settings) as (url, _):
        yield url


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with httpx.Client(timeout=10) as c:
        yield c


class Captured(logging.Handler):
    """Every line the server's loggers write, formatted with tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[Captured]:
    """Captures the server's loggers (access log at INFO) for one test."""
    handler = Captured()
    saved = []
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
    # The others propagate to these two: a handler on each logger would see lines twice.
    tops = [logging.getLogger("agora_token.server"), logging.getLogger("uvicorn")]
    for logger in tops:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in tops:
            logger.removeHandler(handler)
        for logger, level in saved:
            logger.setLevel(level)


def parse(token: str) -> AccessToken2:
    """The token parsed, after checking it is signed with the test certificate for the test app."""
    assert token.startswith("007")
    parsed = AccessToken2.parse(token)
    assert parsed.verify(CERT), "the token is not signed with the server's certificate"
    assert parsed.app_id == APP_ID
    assert abs(parsed.issue_ts - time.time()) < 60
    return parsed


def check_rtc(token: str, channel: str, uid: str, role: str, expire: int = 3600) -> None:
    parsed = parse(token)
    assert parsed.expire == expire
    [service] = parsed.services
    assert isinstance(service, ServiceRtc)
    assert (service.channel_name, service.uid) == (channel, uid)
    want = {RtcPrivilege.JOIN_CHANNEL} | (PUBLISH if role == "publisher" else set())
    assert service.privileges == {p: expire for p in want}


def check_rtm(token: str, user: str, expire: int = 3600, channel: Optional[str] = None) -> None:
    """An RTM login as ``user``; with ``channel``, also RTC join and data streams there (an RTM stream channel)."""
    parsed = parse(token)
    assert parsed.expire == expire
    services = {type(service): service for service in parsed.services}
    assert len(services) == len(parsed.services) == (1 if channel is None else 2)
    login = services[ServiceRtm]
    assert isinstance(login, ServiceRtm)
    assert login.user_id == user and login.privileges == {RtmPrivilege.LOGIN: expire}
    if channel is not None:
        stream = services[ServiceRtc]
        assert isinstance(stream, ServiceRtc) and (stream.channel_name, stream.uid) == (channel, user)
        assert stream.privileges == {RtcPrivilege.JOIN_CHANNEL: expire, RtcPrivilege.PUBLISH_DATA_STREAM: expire}


def check_chat(token: str, user: str, expire: int = 3600) -> None:
    parsed = parse(token)
    assert parsed.expire == expire
    [service] = parsed.services
    assert isinstance(service, ServiceChat)
    privilege = ChatPrivilege.USER if user else ChatPrivilege.APP
    assert service.user_id == user and service.privileges == {privilege: expire}


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    return response.json()  # type: ignore[no-any-return]


def error(response: Any, status: int = 400) -> str:
    """The message of a JSON error answer with ``status``: agora-token-service's keys, the same text in both."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error", "message", "status"], body
    assert isinstance(body["error"], str) and body["error"] and body["message"] == body["error"]
    assert body["status"] == status
    return body["error"]  # type: ignore[no-any-return]


def metric_values(text: str) -> dict[str, float]:
    """Prometheus text → {'name{labels}': value}."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            values[key] = float(value)
    return values


# --------------------------------------------------------------------------------------------------
# the routes of agora-token-service


def test_ping_and_healthz(base: str, client: Any, backend: str) -> None:
    assert ok(client.get(base + "/ping")) == {"message": "pong"}
    health = ok(client.get(base + "/healthz"))
    assert health["status"] == "ok" and health["backend"] == backend


@pytest.mark.parametrize("role", ["publisher", "subscriber"])
def test_rtc_with_uid(base: str, client: Any, role: str) -> None:
    body = ok(client.get(f"{base}/rtc/room-1/{role}/uid/2882341273/", params={"expiry": 600}))
    assert list(body) == ["rtcToken"]
    check_rtc(body["rtcToken"], "room-1", "2882341273", role, 600)


def test_rtc_with_user_account_default_expiry_no_trailing_slash(base: str, client: Any) -> None:
    body = ok(client.get(f"{base}/rtc/my%20room/publisher/userAccount/alice@example"))
    check_rtc(body["rtcToken"], "my room", "alice@example", "publisher", 3600)


def test_rtc_uid_zero_is_the_wildcard_and_expiry_zero_the_default(base: str, client: Any) -> None:
    body = ok(client.get(f"{base}/rtc/room/subscriber/uid/0/?expiry=0"))
    check_rtc(body["rtcToken"], "room", "", "subscriber", 3600)


def test_rtm(base: str, client: Any) -> None:
    body = ok(client.get(f"{base}/rtm/user-7/?expiry=86400"))
    assert list(body) == ["rtmToken"]
    check_rtm(body["rtmToken"], "user-7", 86400)


def test_rte(base: str, client: Any) -> None:
    body = ok(client.get(f"{base}/rte/room-2/subscriber/uid/42/rtm-42/?expiry=120"))
    assert sorted(body) == ["rtcToken", "rtmToken"]
    check_rtc(body["rtcToken"], "room-2", "42", "subscriber", 120)
    check_rtm(body["rtmToken"], "rtm-42", 120, channel="room-2")
    body = ok(client.get(f"{base}/rte/room-2/publisher/userAccount/bob/bob"))
    check_rtc(body["rtcToken"], "room-2", "bob", "publisher")
    check_rtm(body["rtmToken"], "bob", channel="room-2")
    # Without the RTM user id, the RTC user is the RTM user too (as agora-token-service), never uid 0.
    body = ok(client.get(f"{base}/rte/room-2/audience/uid/42/"))
    check_rtc(body["rtcToken"], "room-2", "42", "subscriber")
    check_rtm(body["rtmToken"], "42", channel="room-2")
    says = error(client.get(f"{base}/rte/room-2/publisher/uid/0/"))
    assert says == "rtmid is required when rtcid is 0 or empty: /rte/{channel}/{role}/{tokentype}/{rtcid}/{rtmid}/"


def test_chat(base: str, client: Any) -> None:
    app = ok(client.get(f"{base}/chat/app/?expiry=900"))
    assert list(app) == ["chatToken"]
    check_chat(app["chatToken"], "", 900)
    check_chat(ok(client.get(f"{base}/chat/account/carol/"))["chatToken"], "carol")


@pytest.mark.parametrize(
    "request_body, check",
    [
        ({"tokenType": "rtc", "channel": "c1", "role": "publisher", "uid": "123", "expire": 60},
         lambda t: check_rtc(t, "c1", "123", "publisher", 60)),
        ({"tokenType": "rtc", "channel": "c1", "role": "subscriber", "uid": "dave"},
         lambda t: check_rtc(t, "c1", "dave", "subscriber")),
        ({"tokenType": "rtc", "channel": "c1", "uid": 4294967295, "role": "host"},
         lambda t: check_rtc(t, "c1", "4294967295", "publisher")),
        ({"tokenType": "rtc", "channel": "c1", "uid": "0"}, lambda t: check_rtc(t, "c1", "", "subscriber")),
        ({"tokenType": "rtc", "channel": "c1", "uid": "0", "expire": 0, "role": "broadcaster"},
         lambda t: check_rtc(t, "c1", "", "publisher")),
        ({"tokenType": "rtc", "channel": "c1", "uid": "7", "role": "audience"},
         lambda t: check_rtc(t, "c1", "7", "subscriber")),
        ({"tokenType": "rtm", "uid": "erin", "expire": 7200}, lambda t: check_rtm(t, "erin", 7200)),
        ({"tokenType": "rtm", "uid": "123"}, lambda t: check_rtm(t, "123")),
        ({"tokenType": "rtm", "uid": "erin", "channel": "s-1"}, lambda t: check_rtm(t, "erin", channel="s-1")),
        ({"tokenType": "chat", "uid": "frank"}, lambda t: check_chat(t, "frank")),
        ({"tokenType": "chat", "expire": 300}, lambda t: check_chat(t, "", 300)),
        ({"tokenType": "rtm", "uid": "x", "unknown": [1, 2]}, lambda t: check_rtm(t, "x")),
    ],
)  # fmt: skip
def test_get_token(base: str, client: Any, request_body: dict[str, Any], check: Any) -> None:
    body = ok(client.post(base + "/getToken", json=request_body))
    assert list(body) == ["token"]
    check(body["token"])


# --------------------------------------------------------------------------------------------------
# every bad request: 400 with {"error": ...} naming the problem


ROLE_WORDS = "role must be publisher, host or broadcaster (to publish); subscriber or audience (to join only)"
BAD_GETS = [
    ("/rtc/room/admin/uid/1/", ROLE_WORDS + "; got 'admin'"),
    ("/rtc/room/Publisher/uid/1/", ROLE_WORDS + "; got 'Publisher'"),
    ("/rtc/room//uid/1/", ROLE_WORDS + "; got ''"),
    ("/rtc//publisher/uid/1/", "channel must not be empty"),
    ("/rtc/room/publisher/userAccount//", "userAccount must not be empty"),
    ("/rtc/room%2Fx/publisher/uid/1/", "channel contains an encoded '/' (%2F)"),
    ("/rtm/0/", "uid must not be '0'"),
    ("/rtm//", "uid must not be empty"),
    ("/rte/room/publisher/uid/1/0/", "rtmid must not be '0'"),
    ("/rte/room/publisher/uid//", "rtmid is required when rtcid is 0 or empty"),
    ("/chat/account//", "uid must not be empty"),
    ("/rtc/room/publisher/uid/abc/", "uid must be a number"),
    ("/rtc/room/publisher/uid/4294967296/", "uid must be between 0 and 4294967295"),
    ("/rtc/room/publisher/uid/-1/", "uid"),
    ("/rtc/room/publisher/uid/%C2%B2/", "uid"),  # a superscript two is a digit to str.isdigit
    ("/rtc/room/publisher/email/1/", "'uid' or 'userAccount'"),
    ("/rtc/" + "c" * 65 + "/publisher/uid/1/", "channel is 65 bytes"),
    ("/rtc/" + "\u00e9" * 33 + "/publisher/uid/1/", "channel is 66 bytes"),
    ("/rtc/bad*name/publisher/uid/1/", "channel contains '*'"),
    ("/rtc/room/publisher/userAccount/" + "u" * 256 + "/", "userAccount"),
    ("/rtc/room/publisher/uid/1/?expiry=-5", "expiry must not be negative"),
    ("/rtc/room/publisher/uid/1/?expiry=abc", "expiry must be a whole number"),
    ("/rtc/room/publisher/uid/1/?expiry=1.5", "expiry"),
    ("/rtc/room/publisher/uid/1/?expiry=86401", "86400"),
    ("/rtc/room/publisher/uid/1/?expiry=1700000000", "absolute"),
    ("/rtc/room/publisher/uid/1/?expiry=99999999999999999999999", "expiry"),
    ("/rtm/" + "u" * 256 + "/", "uid is 256 bytes"),
    ("/rtm/bob/?expiry=-1", "expiry"),
    ("/rte/room/publisher/uid/x/bob/", "uid must be a number"),
    ("/rte/room/publisher/uid/1/" + "r" * 256 + "/", "rtmid"),
    ("/rte/room/owner/uid/1/bob/", "role"),
    ("/chat/app/?expiry=999999", "expiry"),
    ("/chat/account/" + "u" * 256 + "/", "uid"),
]


@pytest.mark.parametrize("path, says", BAD_GETS)
def test_bad_get_is_400(base: str, client: Any, path: str, says: str) -> None:
    assert says.lower() in error(client.get(base + path)).lower()


BAD_BODIES: list[tuple[bytes, str]] = [
    (b"", "empty"),
    (b"{", "malformed JSON body: not valid JSON"),
    (b'{"tokenType": "rtc",}', "malformed JSON body: not valid JSON"),  # 3.13 words a trailing comma apart
    (b"\xff\xfe{}", "malformed JSON body: not UTF-8"),
    (b"[" * 5000 + b"]" * 5000, "malformed JSON body: nested more than 32 levels deep"),
    (b'{"a": ' + b"[" * 33 + b"]" * 33 + b"}", "malformed JSON body: nested more than 32 levels deep"),
    (b'{"a": "' + b"[" * 40 + b'", "tokenType": "video"}', "tokenType must be"),  # brackets in a string
    (b"[]", "JSON object"),
    (b'"rtc"', "JSON object"),
    (b"{}", "tokenType is required"),
    (b'{"tokenType": "video"}', "tokenType must be"),
    (b'{"tokenType": 1}', "tokenType must be"),
    (b'{"tokenType": "rtc"}', "channel is required"),
    (b'{"tokenType": "rtc", "channel": ""}', "channel is required"),
    (b'{"tokenType": "rtc", "channel": 7}', "channel must be a str"),
    (b'{"tokenType": "rtc", "channel": "' + b"c" * 65 + b'"}', "channel is 65 bytes"),
    (b'{"tokenType": "rtc", "channel": "c", "uid": "4294967296"}', "uid must be between"),
    (b'{"tokenType": "rtc", "channel": "c", "uid": -1}', "uid must be between"),
    (b'{"tokenType": "rtc", "channel": "c", "uid": true}', "uid must be"),
    (b'{"tokenType": "rtc", "channel": "c", "uid": 1.5}', "uid must be"),
    (b'{"tokenType": "rtc", "channel": "c", "uid": "1", "role": "admin"}', ROLE_WORDS + "; got 'admin'"),
    (b'{"tokenType": "rtc", "channel": "c", "uid": "1", "role": 1}', ROLE_WORDS + "; got 'int'"),
    (b'{"tokenType": "rtc", "channel": "c"}', 'uid is required for an rtc token ("0" lets any user join)'),
    (b'{"tokenType": "rtm", "uid": "0"}', "uid must not be '0'"),
    (b'{"tokenType": "rtm", "uid": "u", "channel": "a*b"}', "channel contains '*'"),
    (b'{"tokenType": "rtc", "channel": "c", "expire": -1}', "expire must not be negative"),
    (b'{"tokenType": "rtc", "channel": "c", "expire": "soon"}', "expire must be a whole number"),
    (b'{"tokenType": "rtc", "channel": "c", "expire": 1.5}', "expire must be a whole number"),
    (b'{"tokenType": "rtc", "channel": "c", "expire": 86401}', "86400"),
    (b'{"tokenType": "rtc", "channel": "c", "expire": 1e30}', "expire"),
    (b'{"tokenType": "rtc", "channel": "c", "expire": NaN}', "expire"),
    (
        b'{"tokenType": "rtc", "channel": "c", "expire": ' + b"9" * 5000 + b"}",
        "malformed JSON body: a number is longer than 64 digits",
    ),
    (
        b'{"tokenType": "rtc", "channel": "c", "expire": 1' + b"0" * 64 + b"}",
        "malformed JSON body: a number is longer than 64 digits",
    ),
    (b'{"tokenType": "rtc", "channel": "' + b"9" * 70 + b'"}', "channel is 70 bytes"),  # digits in a string
    (b'{"tokenType": "rtm"}', "uid is required"),
    (b'{"tokenType": "rtm", "uid": "' + b"u" * 256 + b'"}', "uid is 256 bytes"),
    (b'{"tokenType": "chat", "uid": {}}', "uid must be"),
    (b'{"tokenType": "rtm", "uid": "u", "pad": "' + b"x" * 20000 + b'"}', "larger than"),
]


@pytest.mark.parametrize("body, says", BAD_BODIES, ids=[f"body{i}" for i in range(len(BAD_BODIES))])
def test_bad_get_token_is_400(base: str, client: Any, body: bytes, says: str) -> None:
    message = error(client.post(base + "/getToken", content=body, headers={"content-type": "application/json"}))
    if says.startswith("malformed JSON body: "):
        # Our own words, the whole message: the same on every Python version (json's are not).
        assert message == says
    else:
        assert says.lower() in message.lower()


def test_unknown_route_and_method_are_json(base: str, client: Any) -> None:
    assert error(client.get(base + "/token/generate"), 404) == "no such route"
    assert error(client.get(base + "/getToken"), 405) == "method not allowed"
    assert error(client.delete(base + "/rtm/bob/"), 405) == "method not allowed"


# --------------------------------------------------------------------------------------------------
# CORS and the API key


def test_cors_any_origin(base: str, client: Any) -> None:
    response = client.get(base + "/rtm/bob/", headers={"Origin": "https://anywhere.example"})
    ok(response)
    assert response.headers["access-control-allow-origin"] == "*"


def test_cors_allowed_origin_is_echoed(guarded: str, client: Any) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    response = client.get(guarded + "/rtm/bob/", headers={"Origin": ALLOWED, **auth})
    check_rtm(ok(response)["rtmToken"], "bob")
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["vary"] == "Origin"


def test_cors_other_origin_is_403(guarded: str, client: Any) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    for origin in ("https://evil.example", "null", ALLOWED + ".evil.example"):
        response = client.get(guarded + "/rtm/bob/", headers={"Origin": origin, **auth})
        assert error(response, 403) == "origin not allowed"
        assert "access-control-allow-origin" not in response.headers


def test_cors_preflight(guarded: str, client: Any) -> None:
    preflight = {"Origin": ALLOWED, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}  # fmt: skip
    response = client.options(guarded + "/getToken", headers=preflight)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    denied = client.options(guarded + "/getToken", headers={**preflight, "Origin": "https://evil.example"})
    assert error(denied, 403) == "origin not allowed"


def test_requests_without_origin_pass(guarded: str, client: Any) -> None:
    ok(client.get(guarded + "/chat/app/", headers={"Authorization": f"Bearer {API_KEY}"}))


def test_api_key(guarded: str, client: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY},
                    {"Authorization": f"Basic {API_KEY}"}):  # fmt: skip
        response = client.get(guarded + "/rtm/bob/", headers=headers)
        assert "API key" in error(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert "API key" in error(client.post(guarded + "/getToken", json={"tokenType": "chat"}), 401)
    assert "API key" in error(client.get(guarded + "/metrics"), 401)
    body = ok(client.post(guarded + "/getToken", json={"tokenType": "chat"},
                          headers={"Authorization": f"bearer {API_KEY}"}))  # fmt: skip
    check_chat(body["token"], "")
    # Probes and the API description stay public.
    for path in ("/ping", "/healthz", "/openapi.json"):
        assert client.get(guarded + path).status_code == 200
    assert client.get(guarded + "/openapi.json").json()["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


# --------------------------------------------------------------------------------------------------
# metrics, logs, secrets


def test_metrics_count_requests_tokens_and_errors(client: Any) -> None:
    with running(Settings(app_id=APP_ID, app_certificate=CERT)) as (url, _):
        ok(client.get(url + "/rtc/r/publisher/uid/1/"))
        ok(client.get(url + "/rte/r/publisher/uid/1/u/"))
        ok(client.post(url + "/getToken", json={"tokenType": "chat", "uid": "u"}))
        error(client.get(url + "/rtc/r/publisher/uid/x/"))
        error(client.post(url + "/getToken", content=b"{"))
        error(client.get(url + "/nowhere"), 404)
        response = client.get(url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = metric_values(response.text)
    assert values['agora_token_tokens_issued_total{type="rtc"}'] == 2
    assert values['agora_token_tokens_issued_total{type="rtm"}'] == 1
    assert values['agora_token_tokens_issued_total{type="chat"}'] == 1
    rtc = "/rtc/{channel}/{role}/{tokentype}/{uid}/"
    assert values[f'agora_token_http_requests_total{{method="GET",route="{rtc}",status="200"}}'] == 1
    assert values[f'agora_token_http_requests_total{{method="GET",route="{rtc}",status="400"}}'] == 1
    assert values['agora_token_http_requests_total{method="POST",route="/getToken",status="400"}'] == 1
    assert values['agora_token_http_requests_total{method="GET",route="unmatched",status="404"}'] == 1
    assert values['agora_token_errors_total{kind="bad_request"}'] == 2
    assert values['agora_token_errors_total{kind="not_found"}'] == 1
    assert values["agora_token_http_request_duration_seconds_count"] == 6
    assert values['agora_token_http_request_duration_seconds_bucket{le="+Inf"}'] == 6


def _contains_secret(text: str) -> bool:
    return CERT.lower() in text.lower()


def test_certificate_never_in_answers_or_logs(client: Any, logs: Captured) -> None:
    """Even a client that sends the certificate gets it neither back nor into the access log."""
    with running(Settings(app_id=APP_ID, app_certificate=CERT)) as (url, _):
        responses = [
            client.get(f"{url}/rtc/room/publisher/uid/1/"),
            client.get(f"{url}/rtc/{CERT}/publisher/uid/1/?expiry={CERT}"),
            client.get(f"{url}/rtc/room/publisher/uid/{CERT.upper()}/"),
            client.get(f"{url}/rtm/{CERT}/?expiry=-1"),
            client.get(f"{url}/{CERT}"),
            client.post(f"{url}/getToken", json={"tokenType": CERT}),
            client.post(f"{url}/getToken", json={"tokenType": "rtc", "channel": "c", "role": CERT}),
            client.post(f"{url}/getToken", content=CERT.encode()),
            client.get(f"{url}/healthz"),
            client.get(f"{url}/metrics"),
            client.get(f"{url}/openapi.json"),
        ]
    for response in responses:
        assert response.status_code < 500
        assert not _contains_secret(response.text)
        assert not any(_contains_secret(f"{k}: {v}") for k, v in response.headers.items())
    access = [line for line in logs.lines if line.startswith("agora_token.server.access")]
    assert len(access) == len(responses)
    assert any("[REDACTED]" in line for line in access)
    assert not any(_contains_secret(line) for line in logs.lines)
    # The Settings repr (printed by a careless log line or a traceback) hides the secrets too.
    assert not _contains_secret(repr(Settings(app_id=APP_ID, app_certificate=CERT, api_key="k" * 20)))


def test_unexpected_error_is_json_500_and_redacted(
    client: Any, logs: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agora_token.server import routes

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError(f"kernel failure near {CERT}")

    monkeypatch.setattr(routes, "build_rtm_token", broken)
    with running(Settings(app_id=APP_ID, app_certificate=CERT)) as (url, _):
        response = client.get(url + "/rtm/bob/")
        assert error(response, 500) == "internal server error"
        values = metric_values(client.get(url + "/metrics").text)
    assert values['agora_token_errors_total{kind="internal"}'] == 1
    text = "\n".join(logs.lines)
    assert "RuntimeError: kernel failure near [REDACTED]" in text and not _contains_secret(text)


def test_redact_filter_keeps_argument_types() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s" %d', (
        "127.0.0.1:1", "GET", f"/x/{CERT.upper()}", 200), None)  # fmt: skip
    assert RedactSecrets([CERT]).filter(record)
    assert record.args == ("127.0.0.1:1", "GET", "/x/[REDACTED]", 200)
    assert record.getMessage() == '127.0.0.1:1 - "GET /x/[REDACTED]" 200'


# --------------------------------------------------------------------------------------------------
# configuration


def test_settings_from_env() -> None:
    env = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT, "CORS_ALLOW_ORIGIN": " https://a.io/, https://b.io "}
    settings = Settings.from_env(env)
    assert (settings.app_id, settings.app_certificate) == (APP_ID, CERT)
    assert settings.cors_allow_origins == ("https://a.io", "https://b.io") and not settings.any_origin
    assert settings.api_key is None and settings.access_log
    # APP_ID wins over AGORA_APP_ID, as in agora-token-service; an API key is read when set.
    other = "0" * 32
    settings = Settings.from_env({**env, "APP_ID": other, "AGORA_TOKEN_API_KEY": "secret-key"})
    assert settings.app_id == other and settings.api_key == "secret-key" and settings.any_origin is False
    settings = Settings.from_env({**env, "MY_KEY": "k1", "AGORA_TOKEN_ACCESS_LOG": "off"}, api_key_env="MY_KEY")
    assert settings.api_key == "k1" and not settings.access_log
    assert parse_origins("*") == ("*",) and parse_origins("") == ("*",)


@pytest.mark.parametrize(
    "env, says",
    [
        ({}, "APP_ID (or AGORA_APP_ID) is not set"),
        ({"APP_ID": APP_ID}, "APP_CERTIFICATE (or AGORA_APP_CERTIFICATE) is not set"),
        ({"APP_ID": "nothex", "APP_CERTIFICATE": CERT}, "APP_ID is malformed"),
        ({"APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT[:-1] + "z"}, "AGORA_APP_CERTIFICATE is malformed"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "CORS_ALLOW_ORIGIN": "*,https://a.io"}, "CORS_ALLOW_ORIGIN"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "AGORA_TOKEN_API_KEY_ENV": "NOPE"}, "NOPE is not set"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "AGORA_TOKEN_ACCESS_LOG": "maybe"}, "AGORA_TOKEN_ACCESS_LOG"),
    ],
)
def test_settings_refused(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)) as info:
        Settings.from_env(env)
    assert CERT[:-1] not in str(info.value)


def test_port_resolution() -> None:
    assert resolve_port({}) == 8080
    assert resolve_port({"PORT": "9000"}) == 9000
    assert resolve_port({"SERVER_PORT": "9100", "PORT": "9000"}) == 9100
    assert resolve_port({"SERVER_PORT": "9100"}, port=9200) == 9200
    with pytest.raises(ConfigError, match="SERVER_PORT"):
        resolve_port({"SERVER_PORT": "http"})
    with pytest.raises(ConfigError, match="--port"):
        resolve_port({}, port=70000)


# --------------------------------------------------------------------------------------------------
# schemathesis against the OpenAPI document
#
# Driven through hypothesis directly: schemathesis' pytest integration (from_fixture) does not work
# with pytest 9, and this way each operation is one test with a fixed example budget.

OPERATIONS = [(path, method) for path, item in build_openapi()["paths"].items() for method in item]


@pytest.fixture(scope="module")
def api_schema(base: str) -> Any:
    schemathesis = pytest.importorskip("schemathesis")
    return schemathesis.openapi.from_url(base + "/openapi.json")


@pytest.mark.parametrize("path, method", OPERATIONS)
def test_openapi_conformance(api_schema: Any, path: str, method: str) -> None:
    """No 5xx; status codes, content types and bodies as the document says; 200s carry valid tokens."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operation = api_schema[path][method.upper()]
    statuses: dict[int, int] = {}

    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: Any) -> None:
        response = case.call_and_validate(checks=checks, timeout=10)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code == 200 and path not in ("/ping", "/healthz", "/metrics"):
            for key, token in json.loads(response.content).items():
                assert key.endswith("oken")
                parse(token)
        assert not _contains_secret(response.text)

    call()
    assert statuses.get(200), f"no example was accepted: {statuses}"


# --------------------------------------------------------------------------------------------------
# Issue 15: the lifetime under either name, one credentials rule with the CLI, --app-id, --help, OpenAPI


def _rtm_expire(client: Any, url: str) -> tuple[int, Any]:
    answer = client.get(url)
    return answer.status_code, (AccessToken2.parse(answer.json()["rtmToken"]).expire if answer.status_code == 200
                                else answer.json()["error"])  # fmt: skip


def test_get_routes_take_expire_as_well_as_expiry(base, client):
    assert _rtm_expire(client, f"{base}/rtm/alice/?expire=600") == (200, 600)
    assert _rtm_expire(client, f"{base}/rtm/alice/?expiry=600") == (200, 600)
    assert _rtm_expire(client, f"{base}/rtm/alice/?expiry=600&expire=600") == (200, 600)
    assert _rtm_expire(client, f"{base}/rtm/alice/?expiry=600&expire=700") == (
        400,
        "give the lifetime once: expiry and expire are the same parameter",
    )
    status, error = _rtm_expire(client, f"{base}/rtm/alice/?expire=90000")
    assert status == 400 and error.startswith("expire is 90000 s")
    answer = client.get(f"{base}/rtc/demo/publisher/uid/7/?expire=120")
    assert AccessToken2.parse(answer.json()["rtcToken"]).services[0].privileges[1] == 120


def test_expiry_0_is_the_default_as_in_the_api_and_the_cli(base, client):
    from agora_token import DEFAULT_EXPIRE, build_rtm_token

    assert _rtm_expire(client, f"{base}/rtm/alice/?expiry=0") == (200, DEFAULT_EXPIRE)
    assert _rtm_expire(client, f"{base}/rtm/alice/?expire=0") == (200, DEFAULT_EXPIRE)
    assert AccessToken2.parse(build_rtm_token(APP_ID, CERT, "alice", expire=0)).expire == DEFAULT_EXPIRE


def test_openapi_declares_the_api_key_scheme_and_both_lifetime_names():
    guarded_doc, open_doc = build_openapi(api_key=True), build_openapi(api_key=False)
    assert guarded_doc["components"]["securitySchemes"] == {"apiKey": {"type": "http", "scheme": "bearer"}}
    assert guarded_doc["paths"]["/rtm/{uid}/"]["get"]["security"] == [{"apiKey": []}]
    assert "security" not in guarded_doc["paths"]["/ping"]["get"]
    assert "securitySchemes" not in open_doc["components"]
    names = [p["name"] for p in open_doc["paths"]["/rtm/{uid}/"]["get"]["parameters"]]
    assert "expiry" in names and "expire" in names


def test_guarded_server_serves_its_security_scheme(guarded, client):
    document = client.get(f"{guarded}/openapi.json").json()  # readable without the key
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_settings_take_credentials_as_the_cli_does():
    other = "0123456789abcdef0123456789abcdef"
    both = {"APP_ID": APP_ID, "AGORA_APP_ID": other, "APP_CERTIFICATE": CERT, "AGORA_APP_CERTIFICATE": other}
    assert (Settings.from_env(both).app_id, Settings.from_env(both).app_certificate) == (APP_ID, CERT)
    fallback = {**both, "APP_ID": " ", "APP_CERTIFICATE": ""}
    assert (Settings.from_env(fallback).app_id, Settings.from_env(fallback).app_certificate) == (other, other)
    assert Settings.from_env(both, app_id=other).app_id == other  # serve --app-id wins
    with pytest.raises(ConfigError, match=r"^--app-id is malformed: app_id must be 32 hexadecimal characters"):
        Settings.from_env(both, app_id="nope")


def test_serve_takes_app_id_and_lists_its_variables(capsys, monkeypatch):
    from agora_token.cli import main

    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    for name in (
        "--app-id",
        "APP_ID (or AGORA_APP_ID)",
        "APP_CERTIFICATE (or AGORA_APP_CERTIFICATE)",
        "SERVER_PORT",
        "CORS_ALLOW_ORIGIN",
        "AGORA_TOKEN_API_KEY",
        "AGORA_TOKEN_ACCESS_LOG",
        "AGORA_TOKEN_LOG_FORMAT",
        "AGORA_TOKEN_REQUEST_TIMEOUT",
        "AGORA_TOKEN_MAX_CONNECTIONS",
        "AGORA_TOKEN_MAX_HEADER_BYTES",
    ):
        assert name in out, name
    for name in ("APP_ID", "AGORA_APP_ID", "APP_CERTIFICATE", "AGORA_APP_CERTIFICATE"):
        monkeypatch.delenv(name, raising=False)
    # --app-id is accepted (no usage error); the server then stops at the missing certificate.
    assert main(["serve", "--app-id", APP_ID]) == 2
    assert capsys.readouterr().err == "agora-token serve: APP_CERTIFICATE (or AGORA_APP_CERTIFICATE) is not set\n"
    monkeypatch.setenv("APP_CERTIFICATE", CERT)
    assert main(["serve", "--app-id", "z" * 32]) == 2
    err = capsys.readouterr().err
    assert err.startswith("agora-token serve: --app-id is malformed: app_id must be 32 hexadecimal characters")
