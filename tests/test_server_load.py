"""benchmarks/server_load.py, the server's load benchmark: its answer check and a short run without wrk.

The benchmark's numbers are never asserted here (speed belongs to benchmarks, not to tests); what is
tested is that it judges answers right and that it still works, and says how to get wrk, where wrk
is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agora_token import build_rtc_token

from .common import APP_ID, CERT, OTHER_CERT
from .processes import run

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "server_load.py"


def _server_load() -> ModuleType:
    """benchmarks/server_load.py, loaded from its file."""
    spec = importlib.util.spec_from_file_location("server_load_benchmark", SCRIPT)
    if spec is None or spec.loader is None or not SCRIPT.is_file():
        pytest.skip("benchmarks/ is not beside the tests")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_check_accepts_the_token_asked_for_and_nothing_else() -> None:
    load = _server_load()
    ask = load.rtc_asks(42, 1)[0]  # /rtc/demo/publisher/uid/42/, 3600 s

    def answer(certificate: str = CERT, uid: int = 42, role: str = "publisher", expire: int = 3600) -> bytes:
        token = build_rtc_token(APP_ID, certificate, "demo", uid=uid, role=role, expire=expire)
        return json.dumps({"rtcToken": token}).encode()

    assert load.check(ask, 200, answer(), CERT, APP_ID) is None
    assert "does not verify" in load.check(ask, 200, answer(certificate=OTHER_CERT), CERT, APP_ID)
    assert "wrong thing" in load.check(ask, 200, answer(uid=43), CERT, APP_ID)
    assert "wrong thing" in load.check(ask, 200, answer(role="subscriber"), CERT, APP_ID)
    assert "lifetime" in load.check(ask, 200, answer(expire=3599), CERT, APP_ID)
    assert "lifetime" in load.check(ask, 200, answer(), CERT, "0" * 32)
    assert "HTTP 400" in load.check(ask, 400, b'{"error": "x"}', CERT, APP_ID)
    assert "no rtcToken" in load.check(ask, 200, b'{"token": "x"}', CERT, APP_ID)
    assert "not JSON" in load.check(ask, 200, b"<html>", CERT, APP_ID)


def test_without_wrk_it_says_how_to_install_it_and_loads_with_its_own_client(tmp_path: Path) -> None:
    # PATH holds no wrk (nor git: the revision is then shown as "?").
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    argv = [sys.executable, str(SCRIPT), "--seconds", "0.5", "--rounds", "1", "--verify", "120", "--workload", "rtc"]
    done = run(argv, env, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "apt-get install wrk" in done.stderr
    assert "load: python, 32 connections" in done.stdout
    assert "120 of 120 answers are valid tokens for their request" in done.stdout
    assert "FAIL" not in done.stdout
    assert "| this checkout (?) | rtc |" in done.stdout  # the medians' row
