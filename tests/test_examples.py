"""Every script in examples/ runs and does what its docstring says (issue 15, item 12).

The web examples are loaded from their files and called through each framework's test client;
each test skips cleanly when its framework (the ``examples`` extra) is not installed.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agora_token import AccessToken2

from .common import APP_ID, CERT

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

if not EXAMPLES.is_dir():
    pytest.skip("examples/ is not beside the tests", allow_module_level=True)

pytestmark = pytest.mark.thread_unsafe  # loads modules and edits sys.path


@pytest.fixture(autouse=True)
def _demo_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ID", "APP_CERTIFICATE", "AGORA_APP_ID", "AGORA_APP_CERTIFICATE"):
        monkeypatch.delenv(name, raising=False)


def load(name: str) -> ModuleType:
    """An example file as a fresh module (each reads the credentials when loaded)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(script: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "AGORA_APP_"))}
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=120)  # fmt: skip


def assert_rtc(token: str, channel: str, uid: str, publisher: bool = True) -> None:
    parsed = AccessToken2.parse(token)
    assert parsed.verify(CERT) and parsed.app_id == APP_ID
    (rtc,) = parsed.services
    assert (rtc.channel_name, rtc.uid) == (channel, uid)
    assert sorted(rtc.privileges) == ([1, 2, 3, 4] if publisher else [1])


def test_fastapi_endpoint_takes_the_uid_from_the_signed_in_user():
    pytest.importorskip("fastapi")
    jwt = pytest.importorskip("jwt")
    import time

    from fastapi.testclient import TestClient

    module = load("fastapi_app")
    client = TestClient(module.app)

    def signed_in(sub: str, **claims: object) -> dict[str, str]:
        token = jwt.encode({"sub": sub, "exp": int(time.time()) + 60, **claims}, module.JWT_SECRET, algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}

    answer = client.get("/token", params={"channel": "demo", "uid": 7}, headers=signed_in("42", role="publisher"))
    assert answer.status_code == 200 and answer.json()["uid"] == 42  # ?uid= is not read: the user is
    assert_rtc(answer.json()["token"], "demo", "42")
    answer = client.get("/token", params={"channel": "demo", "expire": 0}, headers=signed_in("43"))
    assert answer.status_code == 200 and answer.json()["expire"] == 3600
    assert_rtc(answer.json()["token"], "demo", "43", publisher=False)
    assert client.get("/token", params={"channel": "demo"}).status_code in (401, 403)  # not signed in
    forged = jwt.encode({"sub": "1", "exp": int(time.time()) + 60}, "another-secret-0123456789abcdef0123", "HS256")
    answer = client.get("/token", params={"channel": "demo"}, headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    answer = client.get("/token", params={"channel": "a/b"}, headers=signed_in("42"))
    assert answer.status_code == 400 and answer.json()["detail"].startswith("channel contains '/'")


def test_flask_endpoint_takes_the_uid_from_the_session():
    pytest.importorskip("flask")
    client = load("flask_app").app.test_client()
    assert client.get("/token?channel=demo&uid=7").status_code == 401  # nobody logged in: no token at all
    assert client.post("/login", data={"user_id": "42"}).status_code == 200
    answer = client.get("/token?channel=demo&uid=7&role=subscriber")
    assert answer.status_code == 200 and answer.get_json()["uid"] == 42
    assert_rtc(answer.get_json()["token"], "demo", "42", publisher=False)
    answer = client.get("/token?channel=demo&expire=soon")
    assert answer.status_code == 400 and answer.get_json()["error"] == "expire must be a number of seconds, got 'soon'"
    answer = client.get("/token?channel=demo&role=host")
    assert answer.status_code == 400 and answer.get_json()["error"].startswith("role must be 'publisher' or")


def test_django_view_takes_the_uid_from_the_session():
    pytest.importorskip("django")
    module = load("django_view")
    import django
    from django.test import Client

    django.setup()
    from django.test.utils import override_settings

    with override_settings(ROOT_URLCONF=module):
        client = Client()
        assert client.get("/token", {"channel": "demo", "uid": "7"}).status_code == 401
        assert client.post("/login", {"user_id": "42"}).status_code == 200
        answer = client.get("/token", {"channel": "demo", "uid": "7"})
        assert answer.status_code == 200 and answer.json()["uid"] == 42
        assert_rtc(answer.json()["token"], "demo", "42")
        answer = client.get("/token", {"channel": "a/b"})
        assert answer.status_code == 400 and answer.json()["error"].startswith("channel contains '/'")
        assert client.post("/token", {"channel": "demo"}).status_code == 405
        assert client.post("/login", {"user_id": "bob"}).status_code == 400


def test_batch_script_writes_one_verified_token_per_user():
    done = run("batch.py", "--channel", "lesson-1", "42", "43", "alice")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["user", "token"] and [r[0] for r in rows[1:]] == ["42", "43", "alice"]
    for user, token in rows[1:]:
        assert_rtc(token, "lesson-1", user)
    done = run("batch.py", "--channel", "big", "--role", "subscriber", "-", stdin="\n".join(map(str, range(1, 201))))
    rows = list(csv.reader(io.StringIO(done.stdout)))[1:]
    assert done.returncode == 0 and len(rows) == 200 and len({t for _, t in rows}) == 200
    assert_rtc(rows[-1][1], "big", "200", publisher=False)
    done = run("batch.py", "--channel", "a/b", "1")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "batch.py: error: channel contains '/', which Agora does not allow in a channel name\n"


def test_renewal_asks_again_before_the_sdk_warning():
    renewal = load("renewal")
    done = run("renewal.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("new token") == 7  # 0, 540, ... 3240 s for an hour of 10-minute tokens
    fetched = []

    def fetch(now: int) -> str:
        token = renewal.at.build_rtc_token(APP_ID, CERT, "demo", uid=42, expire=600, privilege_expire=300,
                                           issue_ts=now)  # fmt: skip
        fetched.append(token)
        return token

    history = renewal.run(fetch, 1_700_000_000, 3600, margin=45)
    assert [t for _, t in history] == fetched
    for (when, token), (next_when, _) in zip(history, history[1:]):
        # Renewed 45 s before the earliest privilege ends (300 s), so before the SDK's 30 s warning.
        assert next_when == when + 300 - 45
        assert next_when < renewal.expires_at(token) - renewal.SDK_WARNING
    with pytest.raises(ValueError, match="^margin must be more than 30 s"):
        renewal.renew_at(fetched[0], margin=30)
