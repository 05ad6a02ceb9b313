"""agora-token-service's own test cases, sent over HTTP to ``agora-token serve``, and requests beyond them.

The upstream cases are data (tests/data/agora_token_service_cases.json, with the commit they come from);
``peer_model`` says what that service answers to any request, token included, and which row of the docs'
"Differences from agora-token-service" table makes this server answer otherwise. Every 200 here is
parsed and compared, service by service, with the token the peer would issue.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from agora_token import AccessToken2  # noqa: E402
from agora_token.services import ServiceChat, ServiceRtc, ServiceRtm  # noqa: E402

from . import peer_model  # noqa: E402
from .common import APP_ID, CERT  # noqa: E402
from .peer_model import Answer, Service, Token  # noqa: E402
from .processes import server_env, serving  # noqa: E402

DATA = json.loads((Path(__file__).parent / "data" / "agora_token_service_cases.json").read_text())
CASES: list[dict[str, Any]] = DATA["cases"]
DIFFERENCES = Path(__file__).resolve().parent.parent / "docs" / "server" / "differences.md"

pytestmark = pytest.mark.thread_unsafe  # one server process shared by the module


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """``agora-token serve`` in a subprocess, with the demo credentials."""
    with serving(["--no-access-log"], server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT)) as (_, base):
        yield base


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with httpx.Client(timeout=30) as c:
        yield c


def send(client: Any, base: str, method: str, target: str, body: Optional[str]) -> Any:
    # The target goes out as written: "//" and percent-escapes are part of what is tested.
    request = client.build_request(
        method,
        base + target,
        content=None if body is None else body.encode(),
        headers={"content-type": "application/json"} if body is not None else {},
    )
    assert request.url.raw_path.decode("ascii") == target, "the HTTP client rewrote the target"
    return client.send(request)


def _service(service: Any) -> Service:
    privileges = tuple(sorted(int(p) for p in service.privileges))
    if isinstance(service, ServiceRtc):
        return Service("rtc", (service.channel_name, service.uid), privileges)
    if isinstance(service, ServiceRtm):
        return Service("rtm", (service.user_id,), privileges)
    assert isinstance(service, ServiceChat), service
    return Service("chat", (service.user_id,), privileges)


def check_token(text: str, want: Token) -> None:
    """``text`` is a token of the test app, signed with its certificate, issued now, that grants ``want``."""
    token = AccessToken2.parse(text)
    assert token.verify(CERT) and token.app_id == APP_ID
    assert abs(token.issue_ts - time.time()) < 120
    assert token.expire == want.expire
    for service in token.services:
        assert set(service.privileges.values()) == {want.expire}, "every privilege lasts the token's lifetime"
    assert sorted(map(_service, token.services), key=repr) == sorted(want.services, key=repr)


def check_answer(response: Any, want: Answer) -> None:
    assert response.status_code == want.status, response.text
    assert response.headers["content-type"] == "application/json", "every answer here is JSON"
    body = response.json()
    if want.status == 200:
        assert sorted(body) == sorted(want.keys or ())
        for key, token in want.tokens.items():
            check_token(body[key], token)
        return
    # An error: the peer's keys (where it answers JSON) and the same text under both names.
    assert set(body) == {"error", "message", "status"}, body
    assert body["status"] == want.status and body["error"] == body["message"] != ""
    assert set(want.keys or ()) <= set(body)


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['method']} {case['target']} {case.get('body', '')}"[:100]


def test_the_model_answers_the_upstream_cases_as_upstream_asserts() -> None:
    """peer_model is right about every case the peer's own tests assert (status and keys)."""
    assert len(CASES) == 43
    for case in CASES:
        answer = peer_model.peer_answer(case["method"], case["target"], case.get("body"))
        keys = None if case["keys"] is None else tuple(case["keys"])
        assert (answer.status, answer.keys) == (case["status"], keys), _case_id(case)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_upstream_case(url: str, client: Any, case: dict[str, Any]) -> None:
    """Each of agora-token-service's test cases: the status it asserts, its keys, and the peer's token."""
    response = send(client, url, case["method"], case["target"], case.get("body"))
    assert response.status_code == case["status"], response.text
    want = peer_model.expected_here(case["method"], case["target"], case.get("body"))
    assert not want.flaws, "an upstream case needs no difference"
    check_answer(response, want)


LONG = "u" * 256
BEYOND: list[tuple[str, str, Optional[str]]] = [
    ("GET", "/rtc/room/publisher/uid/4294967295/", None),
    ("GET", "/rtc/room/publisher/uid/4294967296/", None),
    ("GET", "/rtc/room/subscriber/uid/18446744073709551616/", None),
    ("GET", "/rtc/room/publisher/uid/0123/?expiry=60", None),
    ("GET", "/rtc/room/audience/uid/7/", None),
    ("GET", "/rtc/room/subscriber/userAccount/alice/", None),
    ("GET", "/rtc/room/host/uid/7/", None),
    ("GET", "/rtc/room/broadcaster/userAccount/alice/", None),
    ("GET", "/rtc/room/admin/uid/7/", None),
    ("GET", "/rtc/room/Publisher/uid/7/", None),
    ("GET", "/rtc/room//uid/7/", None),
    ("GET", "/rtc/" + "c" * 64 + "/publisher/uid/1/", None),
    ("GET", "/rtc/" + "c" * 65 + "/publisher/uid/1/", None),
    ("GET", "/rtc//publisher/uid/1/", None),
    ("GET", "/rtc/a*b/publisher/uid/1/", None),
    ("GET", "/rtc/my%20room/publisher/uid/1/", None),
    ("GET", "/rtc/room/publisher/userAccount//", None),
    ("GET", "/rtc/room/publisher/userAccount/" + LONG + "/", None),
    ("GET", "/rtc/room/publisher/uid/1/?expiry=86400", None),
    ("GET", "/rtc/room/publisher/uid/1/?expiry=86401", None),
    ("GET", "/rtc/room/publisher/uid/1/?expiry=4294967296", None),
    ("GET", "/rtc/room/publisher/uid/1/?expiry=0", None),
    ("GET", "/rtc/room/publisher/uid/1/?expiry=-1", None),
    ("GET", "/rtm/alice/?expiry=120", None),
    ("GET", "/rtm//", None),
    ("GET", "/rtm/" + LONG + "/", None),
    ("GET", "/rtm/alice/?expiry=0", None),
    ("GET", "/rte/room/host/uid/5/", None),
    ("GET", "/rte/room/audience/uid/5/bob/?expiry=90", None),
    ("GET", "/rte/room/publisher/uid/5//", None),
    ("GET", "/rte/room/publisher/uid/0//", None),
    ("GET", "/rte/room/publisher/uid//bob/", None),
    ("GET", "/rte/room/publisher/userAccount/bob/", None),
    ("GET", "/rte/room/publisher/userAccount/0/", None),
    ("GET", "/rte/room/publisher/uid/1/0/", None),
    ("GET", "/rte/room/publisher/uid/4294967296/bob/", None),
    ("GET", "/rte/" + "c" * 65 + "/publisher/uid/1/bob/", None),
    ("GET", "/rte/room/nonsense/uid/x/bob/", None),
    ("GET", "/chat/account/0/", None),
    ("GET", "/chat/account//", None),
    ("GET", "/chat/account/" + LONG + "/", None),
    ("GET", "/chat/app/?expiry=0", None),
    ("GET", "/chat/app/?expiry=86401", None),
    ("GET", "/nowhere/", None),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "4294967295", "role": "publisher"}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "4294967296"}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "99999999999999999999999"}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "0"}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "007"}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "7", "role": ""}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "7", "role": "audience"}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "7", "role": "host"}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "7", "role": "broadcaster", "expire": 60}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "7", "role": "admin"}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "u", "expire": -5}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "u", "expire": 86401}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "u", "expire": 0}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "' + "c" * 65 + '", "uid": "u"}'),
    ("POST", "/getToken", '{"tokenType": "rtc", "channel": "c", "uid": "' + LONG + '"}'),
    ("POST", "/getToken", '{"tokenType": "rtm", "uid": "0"}'),
    ("POST", "/getToken", '{"tokenType": "rtm", "uid": "bob", "channel": "c", "expire": 600}'),
    ("POST", "/getToken", '{"tokenType": "rtm", "uid": "bob", "channel": "a*b"}'),
    ("POST", "/getToken", '{"tokenType": "chat", "uid": "0"}'),
    ("POST", "/getToken", '{"tokenType": "chat", "uid": "' + LONG + '"}'),
    ("POST", "/getToken", '{"tokenType": "chat", "channel": "ignored", "role": "whatever"}'),
    ("POST", "/getToken", '{"TokenType": "chat"}'),
    ("POST", "/getToken", "null"),
    ("POST", "/getToken", "[]"),
]


@pytest.mark.parametrize("method, target, body", BEYOND, ids=lambda v: (v or "")[:60])
def test_beyond_the_upstream_cases(url: str, client: Any, method: str, target: str, body: Optional[str]) -> None:
    """A 200 from the peer is a 200 here with an equivalent token, unless a row of the differences table says not."""
    want = peer_model.expected_here(method, target, body)
    check_answer(send(client, url, method, target, body), want)


def test_every_peer_200_beyond_the_cases_is_checked_or_a_listed_difference() -> None:
    """The requests above reach every row of the table the model knows, and include plain 200s."""
    reached = {row for request in BEYOND for row, _ in peer_model.peer_answer(*request).flaws}
    assert reached == set(peer_model.ROWS)
    plain = [r for r in BEYOND if peer_model.peer_answer(*r).status == 200 and not peer_model.peer_answer(*r).flaws]
    assert len(plain) >= 15


def differences_table() -> str:
    text = DIFFERENCES.read_text(encoding="utf-8")
    match = re.search(r"^# Differences from agora-token-service\n(.*?)(?=^#|\Z)", text, re.M | re.S)
    assert match, "docs/server/differences.md is no longer the page 'Differences from agora-token-service'"
    return match.group(1)


@pytest.mark.skipif(not DIFFERENCES.is_file(), reason="docs/server/differences.md is not beside the tests")
def test_the_differences_table_has_every_row_the_tests_rely_on() -> None:
    rows = [line for line in differences_table().splitlines() if line.startswith("| ")]
    for row in peer_model.ROWS:
        assert any(line.startswith(f"| {row}") for line in rows), row
