"""The server's defined answers to hostile or broken clients, over real sockets on 127.0.0.1.

Connection hygiene (request deadline, head cap, connection cap) on both uvicorn parsers; a client that
leaves mid-body; strict path decoding; no Host reflection; log lines that cannot be forged and hide
the certificate in every spelling; bounded metric labels; the JSON access log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
pytest.importorskip("prometheus_client")

from agora_token.server import Settings, create_app  # noqa: E402
from agora_token.server.config import Limits  # noqa: E402
from agora_token.server.logs import ACCESS_LOGGER, RedactSecrets, escape, json_formatter  # noqa: E402
from agora_token.server.protocol import PROTOCOLS, protocol_class  # noqa: E402

from .test_server import APP_ID, CERT, Captured, check_rtm, metric_values, serving_in_thread  # noqa: E402
from .test_server import logs as _logs  # noqa: E402,F401  (the fixture, under its own name below)


@pytest.fixture
def captured(_logs: Captured) -> Captured:  # noqa: F811  (pytest injects the imported fixture)
    """Every line the server's loggers write during the test (test_server's ``logs`` fixture)."""
    return _logs


def refusals(port: int) -> dict[str, float]:
    """The server's connections_refused counters by reason (process-wide: compare before and after)."""
    values = metric_values(get(port, "/metrics")[2].decode())
    prefix = 'agora_token_connections_refused_total{reason="'
    return {k[len(prefix) : -2]: v for k, v in values.items() if k.startswith(prefix)}


LIMITS = Limits(request_timeout=0.6, max_connections=4, max_header_bytes=4096)
PARSERS = sorted(PROTOCOLS)


@contextlib.contextmanager
def serving(http: str, limits: Limits = LIMITS) -> Iterator[tuple[int, Any]]:
    """uvicorn with our protocol for ``http`` and ``limits``, in a thread; yields (port, app)."""
    app = create_app(Settings(app_id=APP_ID, app_certificate=CERT))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=1,
                            http=protocol_class(http), h11_max_incomplete_event_size=1 << 20)  # fmt: skip
    config.agora_limits = limits
    with serving_in_thread(config, sock):
        yield sock.getsockname()[1], app


def connect(port: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn.settimeout(5)
    return conn


def read_all(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 5 s pass)."""
    chunks = []
    with contextlib.suppress(socket.timeout, ConnectionResetError):
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def read_response(conn: socket.socket) -> bytes:
    """One whole keep-alive answer (head, then as many body bytes as Content-Length says)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"the server closed the connection after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = int(next(line.split(b":")[1] for line in lines if line.startswith(b"content-length")))
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    return head + b"\r\n\r\n" + body


def ask(port: int, request: bytes) -> tuple[int, bytes, bytes]:
    """One request on a fresh connection that asks to close: (status, head, body)."""
    with contextlib.closing(connect(port)) as conn:
        conn.sendall(request)
        answer = read_all(conn)
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head[9:12]), head, body


def get(port: int, target: str, headers: str = "") -> tuple[int, bytes, bytes]:
    return ask(port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n".encode())


def json_error(answer: bytes) -> str:
    """The text of a JSON error answer, which carries agora-token-service's keys and its status (issue 20)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), answer
    error = json.loads(body)
    assert error == {"error": error["error"], "message": error["error"], "status": int(head[9:12])}, error
    return error["error"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------------
# connection hygiene


@pytest.mark.parametrize("http", PARSERS)
def test_idle_and_slow_clients_are_timed_out_and_big_heads_refused(http: str) -> None:
    with serving(http) as (port, _):
        before = refusals(port)
        idle = connect(port)
        slow = connect(port)
        started = time.monotonic()
        slow.sendall(b"GET /ping HTTP/1.1\r\n")
        for _ in range(3):  # a header line every 0.3 s: each arrives well within any per-read timeout
            time.sleep(0.3)
            with contextlib.suppress(OSError):
                slow.sendall(b"X-Slow: 1\r\n")
        for conn in (idle, slow):
            answer = read_all(conn)
            assert answer.startswith(b"HTTP/1.1 408 "), answer
            assert "request timeout" in json_error(answer)
            conn.close()
        assert time.monotonic() - started < 3
        # A head beyond the cap: 431, before the server buffers the rest.
        big = connect(port)
        with contextlib.suppress(OSError):
            big.sendall(b"GET /ping HTTP/1.1\r\nX-Big: " + b"a" * 100_000)
        answer = read_all(big)
        big.close()
        assert answer.startswith(b"HTTP/1.1 431 ") and json_error(answer) == "the request head is too large"
        # A request too malformed to parse: a JSON 400 in our words, not uvicorn's plain text.
        status, head, body = ask(port, b"NOT HTTP\r\n\r\n")
        assert status == 400 and json.loads(body) == {
            "error": "malformed HTTP request",
            "message": "malformed HTTP request",
            "status": 400,
        }
        # A mid-body stall: 408 as well, and the app sees a disconnect, not an error.
        stall = connect(port)
        stall.sendall(b"POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        answer = read_all(stall)
        stall.close()
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        # The server still answers, and counted each refusal.
        after = refusals(port)
        values = metric_values(get(port, "/metrics")[2].decode())
    assert {k: after[k] - before[k] for k in after} == {
        "request_timeout": 3,
        "header_too_large": 1,
        "malformed_request": 1,
        "too_many_connections": 0,
    }
    assert values.get('agora_token_errors_total{kind="internal"}', 0) == 0


@pytest.mark.parametrize("http", PARSERS)
def test_connection_cap_sheds_idle_clients_first_then_answers_503(http: str) -> None:
    limits = Limits(request_timeout=30, max_connections=3, max_header_bytes=4096)
    with serving(http, limits) as (port, _):
        idle = [connect(port) for _ in range(3)]
        time.sleep(0.2)
        # A fourth client still gets its token: the oldest idle connection made room.
        status, _, body = get(port, "/rtm/alice/")
        assert status == 200
        check_rtm(json.loads(body)["rtmToken"], "alice")
        assert json_error(read_all(idle[0])).startswith("server busy")
        # Connections with a request in progress (head in, body awaited) are not shed: the next is refused.
        busy = []
        for conn in idle[1:] + [connect(port)]:
            conn.sendall(b"POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
            busy.append(conn)
        time.sleep(0.2)
        refused = connect(port)
        answer = read_all(refused)
        assert answer.startswith(b"HTTP/1.1 503 ") and b"retry-after: 1" in answer.lower()
        assert json_error(answer).startswith("server busy")
        for conn in busy:  # finishing a request still works
            conn.sendall(b'{"a": 1}  ')
            assert json_error(read_response(conn)) == "tokenType is required: 'rtc', 'rtm' or 'chat'"
            conn.close()
        refused.close()
        for conn in idle:
            conn.close()


def test_client_leaving_mid_body_is_no_error(captured: Captured) -> None:
    with serving("h11", Limits(request_timeout=30, max_connections=100, max_header_bytes=4096)) as (port, _):
        conn = connect(port)
        conn.sendall(b"POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.2)
        conn.close()
        time.sleep(0.3)
        values = metric_values(get(port, "/metrics")[2].decode())
    assert values['agora_token_errors_total{kind="client_disconnected"}'] == 1
    assert values.get('agora_token_errors_total{kind="internal"}', 0) == 0
    text = "\n".join(captured.lines)
    assert "Traceback" not in text and '"POST /getToken HTTP/1.1" 499' in text


# --------------------------------------------------------------------------------------------------
# the path, the Host header, the metric labels


@pytest.mark.parametrize(
    "target, says",
    [
        ("/rtm/%ff/", "uid is not valid UTF-8"),
        ("/rtm/a%zz/", "uid has a malformed percent-encoding"),
        ("/rtm/a%f/", "uid has a malformed percent-encoding"),
        ("/rtc/%c3/publisher/uid/1/", "channel is not valid UTF-8"),
        ("/rte/room/publisher/uid/1/%ed%a0%80/", "rtmid is not valid UTF-8"),  # a lone surrogate
        ("/chat/account/%80/", "uid is not valid UTF-8"),
        ("/rte/a%2Fb/publisher/uid/1/", "channel contains an encoded '/' (%2F), which no channel may hold"),
        ("/rtc/room%2fx/publisher/uid/1/", "channel contains an encoded '/' (%2F), which no channel may hold"),
        ("/rtm/a%2F%ff/", "uid contains an encoded '/' (%2F)"),
        ("/chat/account/x%2F/", "uid contains an encoded '/' (%2F)"),
    ],
)
def test_bad_path_segments_are_400_naming_them(target: str, says: str) -> None:
    with serving("httptools" if "httptools" in PROTOCOLS else "h11") as (port, _):
        status, head, body = get(port, target)
        assert status == 400 and says in json_error(head + b"\r\n\r\n" + body)
        # Valid UTF-8, encoded, still works.
        status, _, body = get(port, "/rtm/%C3%A9t%C3%A9/")
        assert status == 200
        check_rtm(json.loads(body)["rtmToken"], "été")


def test_host_header_is_never_reflected() -> None:
    with serving("h11") as (port, _):
        for target in ("/ping/", "/healthz/", "/rtm/bob", "/nowhere/"):
            status, head, _ = ask(port, f"GET {target} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
                                  .encode())  # fmt: skip
            assert status in (200, 404) and b"location" not in head.lower() and b"evil" not in head


def test_unknown_methods_share_one_series() -> None:
    with serving("h11") as (port, _):  # h11 accepts any token as a method; httptools only known ones
        for i in range(30):
            ask(port, f"M{i}X /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        text = get(port, "/metrics")[2].decode()
    values = metric_values(text)
    assert values['agora_token_http_requests_total{method="other",route="/ping",status="405"}'] == 30
    assert "M1X" not in text


# --------------------------------------------------------------------------------------------------
# logs


def test_log_lines_cannot_be_forged_and_hide_the_certificate(captured: Captured) -> None:
    encoded = "".join(f"%{ord(c):02X}" for c in CERT[:8]) + CERT[8:]
    with serving("h11") as (port, _):
        get(port, "/rtm/x%0Aforged-line%20INFO%20owned/")
        get(port, "/rtm/x%1b%5b31m/")
        get(port, f"/rtm/bob/?k={encoded}&j={CERT.lower()}")
        get(port, f"/rtm/{encoded}/")
    access = [line for line in captured.lines if line.startswith(ACCESS_LOGGER)]
    assert len(access) == 4
    assert all("\n" not in line and "\x1b" not in line for line in captured.lines)
    assert "/rtm/x%0Aforged-line%20INFO%20owned/" in access[0] and "/rtm/x%1b%5b31m/" in access[1]
    assert "?k=[REDACTED]&j=[REDACTED]" in access[2] and "/rtm/[REDACTED]/" in access[3]
    assert not any(CERT.lower() in line.lower() or encoded.lower() in line.lower() for line in captured.lines)


def test_escape_and_redact_helpers() -> None:
    assert escape("a\nb\rc\x1b[31m\x00\u2028") == "a\\nb\\rc\\x1b[31m\\x00\\u2028"
    assert escape("plain /path?x=1") == "plain /path?x=1"
    guard = RedactSecrets([CERT])
    mixed = CERT[:3] + "%" + format(ord(CERT[3]), "02x") + CERT[4:].upper()
    assert guard.redact(f"a {mixed} b") == "a [REDACTED] b"
    assert guard.redact(CERT[:-1]) == CERT[:-1]  # not the secret: left alone


def test_json_access_log_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_TOKEN_LOG_FORMAT", "json")  # what `serve --log-format json` sets
    handler = Captured()
    handler.setFormatter(json_formatter())
    access = logging.getLogger(ACCESS_LOGGER)
    level = access.level
    access.setLevel(logging.INFO)
    access.addHandler(handler)
    try:
        with serving("h11") as (port, _):
            get(port, f"/rtm/a%0Ab/?x={CERT}")
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    [line] = handler.lines
    entry = json.loads(line)
    assert entry["logger"] == ACCESS_LOGGER and entry["level"] == "INFO"
    assert (entry["method"], entry["status"], entry["http_version"]) == ("GET", 200, "1.1")
    assert entry["target"] == "/rtm/a%0Ab/?x=[REDACTED]" and CERT not in line
    assert isinstance(entry["duration_ms"], float) and "_agora_redacted" not in entry
