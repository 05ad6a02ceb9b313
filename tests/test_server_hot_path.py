"""The token request's short path: the route table against Starlette's router, the access log without a
LogRecord against the one with, the batched log handler, and one write per answer.

Each fast piece has a slow twin that the rest of the suite covers through every route and rule; these
tests hold the twins to the same answers (speed itself is measured in benchmarks/server_load.py).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import re
import socket
from typing import Any

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
pytest.importorskip("prometheus_client")

from starlette.routing import Match  # noqa: E402

from agora_token.server import Settings, create_app  # noqa: E402
from agora_token.server.application import TOKEN_ROUTES, _label, _routes  # noqa: E402
from agora_token.server.dispatch import RouteTable  # noqa: E402
from agora_token.server.logs import (  # noqa: E402
    ACCESS_LOGGER,
    TEXT_FORMAT,
    BufferedStreamHandler,
    LineFormatter,
    _chunks,
    guard_loggers,
    log_directly,
)
from agora_token.server.protocol import OneWrite  # noqa: E402

from .test_server import APP_ID, CERT  # noqa: E402

#: Path segments the routes' literals and parameters may meet, empty included.
SEGMENTS = ["", "x", "app", "account", "uid"]
HEADS = ["getToken", "rtc", "rtm", "rte", "chat", "ping", "metrics", "x", ""]


def _paths() -> list[str]:
    """Every path of a head and up to four more segments from SEGMENTS, with and without a trailing
    slash, and the five-segment shapes of /rte/ and /rtc/."""
    paths = {"/", "//", "/rtc/r/publisher/uid/1//", "/chat/app/x/", "/getToken/x"}
    for head in HEADS:
        for count in range(5):
            for rest in itertools.product(SEGMENTS, repeat=count):
                paths.add("/" + "/".join((head, *rest)))
        for rest in [("r", "publisher", "uid", "1", "a"), ("", "", "", "", ""), ("r", "x", "uid", "", "")]:
            paths.add("/" + "/".join((head, *rest)))
    return sorted(paths | {path + "/" for path in paths})


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT"])
def test_the_route_table_matches_what_starlettes_router_matches(method: str) -> None:
    table = RouteTable([(t, e, m, _label(t)) for t, e, m in TOKEN_ROUTES])
    token_labels = {_label(t) for t, _, _ in TOKEN_ROUTES}
    routes = _routes()
    answered = 0
    for path in _paths():
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        starlette = None
        for route, label in routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                starlette = (label, child["path_params"])
                break
            if match is Match.PARTIAL and starlette is None:  # the path is a route, the method is not: 405
                starlette = ("405", {})
        found = table.match(path, method)
        if found is None:  # Starlette answers: another route, no route, or a 405
            assert starlette is None or starlette[0] not in token_labels, (path, method, starlette)
        else:
            form, params = found
            assert starlette == (form.label, params), (path, method)
            answered += 1
    # PUT: no token route takes it; POST: /getToken and /getToken/; GET and HEAD: every other route's spellings.
    assert answered == 0 if method == "PUT" else answered == 2 if method == "POST" else answered > 100


def test_a_mounted_app_is_still_routed_by_starlette() -> None:
    app = create_app(Settings(app_id=APP_ID, app_certificate=CERT))
    answers: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        answers.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/tokens/rtm/bob/", "raw_path": b"/tokens/rtm/bob/", "root_path": "/tokens", "query_string": b"",
             "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    assert answers[0]["status"] == 200
    assert answers[1]["body"].startswith(b'{"rtmToken":"007')


def test_a_line_logged_directly_is_the_line_its_record_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream)
    handler.setFormatter(LineFormatter())
    logger = logging.getLogger(ACCESS_LOGGER)
    monkeypatch.setattr(logger, "handlers", [handler])
    monkeypatch.setattr(logger, "propagate", False)
    monkeypatch.setattr(logger, "filters", [])
    monkeypatch.setattr(handler, "filters", [])
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        guard = guard_loggers([CERT])  # the redaction, on the logger and its handler
        message = f'127.0.0.1:1 - "GET /rtm/{CERT.upper()}/ HTTP/1.1" 200 0.10ms'
        assert log_directly(logger, logging.INFO, message)
        logger.info("%s", message)  # the record's way
        handler.flush()
        direct, recorded = stream.getvalue().splitlines()
        stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
        assert stamp.match(direct) and stamp.match(recorded)
        assert (
            stamp.sub("", direct)
            == stamp.sub("", recorded)
            == (f'INFO {ACCESS_LOGGER}: 127.0.0.1:1 - "GET /rtm/[REDACTED]/ HTTP/1.1" 200 0.10ms')
        )
        assert guard.redact(CERT) == "[REDACTED]"
        # A handler added beside it (a host's, a test's): the record's way, so that handler sees it too.
        other = logging.StreamHandler(io.StringIO())
        logger.addHandler(other)
        assert not log_directly(logger, logging.INFO, "x")
        logger.removeHandler(other)
        # Another formatter (JSON, a host's): the record's way.
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
        assert not log_directly(logger, logging.INFO, "x")
    finally:
        logger.setLevel(level)
        handler.close()


def test_line_formatter_writes_the_time_as_logging_does() -> None:
    record = logging.LogRecord("n", logging.INFO, __file__, 1, "m %s", ("a",), None)
    for created in (record.created, record.created + 0.5, 0.999, 86399.001):
        record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
        assert LineFormatter().format(record) == logging.Formatter(TEXT_FORMAT).format(record)


def test_buffered_handler_writes_whole_lines_in_few_writes_and_all_at_close() -> None:
    writes: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    handler = BufferedStreamHandler(Stream(), interval=60, max_pending=1000)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for i in range(1200):
        handler.handle(logging.LogRecord("n", logging.INFO, __file__, 1, "line %d %s", (i, "x" * 100), None))
    assert writes == []  # nothing written on the logging thread
    handler.close()
    lines = "".join(writes).splitlines()
    assert lines[:1000] == [f"line {i} {'x' * 100}" for i in range(1000)]
    assert lines[1000:] == ["200 log lines were dropped: the log's reader did not keep up"]
    assert all(len(w.encode()) <= 4096 and w.endswith("\n") for w in writes) and len(writes) < 50
    assert list(_chunks(["a" * 600, "b", "c"], 512)) == ["a" * 600 + "\n", "b\nc\n"]  # a long line goes alone


def test_one_write_per_turn_of_the_loop() -> None:
    async def main() -> tuple[list[bytes], list[bytes]]:
        left, right = socket.socketpair()
        loop = asyncio.get_running_loop()
        written: list[bytes] = []

        class Transport:
            closing = False

            def write(self, data: bytes) -> None:
                written.append(data)

            def is_closing(self) -> bool:
                return self.closing

            def close(self) -> None:
                self.closing = True

            def get_extra_info(self, name: str) -> str:
                return "forwarded:" + name

        transport = Transport()
        one = OneWrite(transport, loop)  # type: ignore[arg-type]
        one.write(b"head ")
        one.write(b"body")
        assert written == [] and one.get_extra_info("peername") == "forwarded:peername"
        await asyncio.sleep(0)
        first = list(written)
        one.write(b"last")
        one.close()  # writes what waits, then closes
        one.write(b"after close")
        await asyncio.sleep(0)
        left.close()
        right.close()
        return first, written

    first, written = asyncio.run(main())
    assert first == [b"head body"]
    assert written == [b"head body", b"last"]
