"""The server as a process: refusing to start, SIGTERM with one worker or several, a supervisor killed
outright, the environment variables shared with gunicorn and the Docker image, ``uvicorn ...:app``.

Every process here is started by tests/processes.py: in a process group of its own, killed whole on
the way out, with a timeout on every wait.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from .processes import (  # noqa: E402
    SERVE,
    WAIT,
    finish,
    free_port,
    run,
    running,
    server_env,
    serving,
    stop,
    wait_until_answering,
)
from .test_server import API_KEY, APP_ID, CERT, _contains_secret, check_rtc, check_rtm, error, metric_values, ok  # noqa: E402

pytestmark = pytest.mark.thread_unsafe  # processes, ports and signals
LINUX = sys.platform.startswith("linux")
ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------------
# starting


@pytest.mark.parametrize(
    "env, args, says",
    [
        ({}, [], "APP_ID (or AGORA_APP_ID) is not set"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT[:31]}, [], "APP_CERTIFICATE is malformed"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "SERVER_PORT": "eighty"}, [], "SERVER_PORT must be a port"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT}, ["--workers", "0"], "--workers must be at least 1"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "WEB_CONCURRENCY": "many"}, [],
         "WEB_CONCURRENCY must be a whole number of at least 1, got 'many'"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "AGORA_TOKEN_HTTP": "spdy"}, [],
         "AGORA_TOKEN_HTTP must be one of auto, httptools, h11, got 'spdy'"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "AGORA_TOKEN_METRICS_PUBLIC": "perhaps"}, [],
         "AGORA_TOKEN_METRICS_PUBLIC must be 1/0"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT}, ["--request-timeout", "-1"],
         "--request-timeout must be a number of seconds of at least 0, got '-1.0'"),
        ({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "AGORA_TOKEN_MAX_CONNECTIONS": "lots"}, [],
         "AGORA_TOKEN_MAX_CONNECTIONS must be a whole number of at least 1, got 'lots'"),
    ],
)  # fmt: skip
def test_serve_refuses_to_start_with_one_line(env: dict[str, str], args: list[str], says: str) -> None:
    # PORT, not --port: --port would override the SERVER_PORT under test.
    done = run([sys.executable, "-c", SERVE, *args], server_env(PORT=str(free_port()), **env))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("agora-token serve: ") and says in lines[0]
    assert CERT[:31] not in done.stderr


# --------------------------------------------------------------------------------------------------
# stopping


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_then_stops_gracefully_on_sigterm(workers: int) -> None:
    env = server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT, MY_API_KEY=API_KEY)
    with serving(["--workers", str(workers), "--api-key-env", "MY_API_KEY"], env) as (proc, url):
        auth = {"Authorization": f"Bearer {API_KEY}"}
        for i in range(4):  # several requests, so that both workers are likely to answer
            check_rtc(ok(httpx.get(f"{url}/rtc/r/publisher/uid/{i + 1}/", headers=auth, timeout=WAIT))["rtcToken"],
                      "r", str(i + 1), "publisher")  # fmt: skip
        assert httpx.get(f"{url}/rtm/bob/", timeout=WAIT).status_code == 401
        # Whichever worker answers /metrics reports every worker's tokens (prometheus multiprocess mode).
        for _ in range(3):
            text = httpx.get(f"{url}/metrics", headers={**auth, "Connection": "close"}, timeout=WAIT).text
            assert metric_values(text)['agora_token_tokens_issued_total{type="rtc"}'] == 4
        _, stderr = stop(proc, signal.SIGTERM)
    assert proc.returncode == 0, stderr
    assert "agora-token server ready" in stderr and "agora-token server stopped" in stderr
    assert '"GET /rtc/r/publisher/uid/1/ HTTP/1.1" 200' in stderr  # the access log
    assert "Traceback" not in stderr and not _contains_secret(stderr) and API_KEY not in stderr


def _request_in_flight(port: int, body: bytes) -> socket.socket:
    """A POST whose head the app has read (it asked for the body: "100 Continue") and whose body is not sent."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    conn.sendall(b"POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body))  # fmt: skip
    assert conn.recv(100).startswith(b"HTTP/1.1 100 ")
    return conn


def _read_answer(conn: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_refuses_new_connections_at_once_and_finishes_requests_in_flight(workers: int) -> None:
    """Issue 20: with --workers 2, a connection made after SIGTERM was accepted during the drain."""
    port = free_port()
    args = ["--workers", str(workers), "--graceful-timeout", "30", "--request-timeout", "0", "--no-access-log"]
    with serving(args, server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT), port=port) as (proc, _):
        body = b'{"tokenType": "rtm", "uid": "drain"}'
        pending = _request_in_flight(port, body)
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        # From a moment after the signal on, the port refuses connections (the load balancer retries
        # elsewhere) while the request in flight still holds the server up.
        accepted = 0
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=WAIT).close()
            except ConnectionRefusedError:
                break
            accepted += 1
            assert time.monotonic() - signalled < 10, f"still accepting connections 10 s after SIGTERM ({accepted})"
            time.sleep(0.02)
        refused_after = time.monotonic() - signalled
        assert proc.poll() is None, "the server must still be draining"
        pending.sendall(body)
        answer = _read_answer(pending)
        pending.close()
        _, stderr = finish(proc)
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    check_rtm(json.loads(answer.partition(b"\r\n\r\n")[2])["token"], "drain")
    assert proc.returncode == 0, stderr
    assert refused_after < 5, refused_after


def _group_members(pgid: int) -> set[int]:
    """The live (not zombie) processes of process group ``pgid``, from /proc."""
    members = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, _ppid, pgrp = stat.rpartition(")")[2].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.add(int(entry))
    return members


@pytest.mark.skipif(not LINUX, reason="reads the process table in /proc")
@pytest.mark.parametrize("server", ["serve", "gunicorn"])
def test_workers_exit_when_their_supervisor_is_killed_outright(server: str) -> None:
    """A master killed by SIGKILL (the OOM killer, a hard stop) leaves no worker behind."""
    if server == "gunicorn":
        pytest.importorskip("gunicorn")
    port = free_port()
    env = server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT, WEB_CONCURRENCY="2")
    argv = ([sys.executable, "-c", SERVE, "--port", str(port)] if server == "serve" else
            [sys.executable, "-m", "gunicorn", "-c", "python:agora_token.server.gunicorn_conf", "--bind",
             f"127.0.0.1:{port}"])  # fmt: skip
    with running(argv, env) as proc:
        wait_until_answering(f"http://127.0.0.1:{port}", proc)
        deadline = time.monotonic() + WAIT  # both workers up: the group holds the master and two workers
        while len(_group_members(proc.pid)) < 3:
            assert time.monotonic() < deadline, _group_members(proc.pid)
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=WAIT)
        killed = time.monotonic()
        while _group_members(proc.pid):
            assert time.monotonic() - killed < 15, f"workers still running: {_group_members(proc.pid)}"
            time.sleep(0.1)


# --------------------------------------------------------------------------------------------------
# one set of environment names for serve, gunicorn and the Docker image


@pytest.mark.skipif(not LINUX, reason="listens on 127.0.0.2, a loopback address Linux has without set-up")
def test_serve_reads_the_host_and_workers_variables_that_gunicorn_and_the_image_read() -> None:
    port = free_port()
    env = server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT, AGORA_TOKEN_HOST="127.0.0.2", WEB_CONCURRENCY="2")
    with running([sys.executable, "-c", SERVE, "--port", str(port)], env) as proc:
        wait_until_answering(f"http://127.0.0.2:{port}", proc)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        _, stderr = stop(proc)
    assert proc.returncode == 0, stderr
    # The supervisor waits for each of its workers as it stops.
    assert len(set(re.findall(r"Waiting for child process \[(\d+)\]", stderr))) == 2, stderr


def _environment_names(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", text))


def test_every_variable_gunicorn_and_the_image_read_is_one_serve_reads_and_lists(capsys: Any) -> None:
    from agora_token.cli import main
    from agora_token.server import auth, config, gunicorn_worker

    assert main(["serve", "--help"]) == 0
    listed = _environment_names(capsys.readouterr().out)
    # What the server reads: each *_VAR name in its config module, and the names read literally.
    server = ROOT / "src" / "agora_token" / "server"
    read = {value for module in (config, auth) for name, value in vars(module).items()
            if name.endswith("_VAR") and isinstance(value, str)}  # fmt: skip
    for module in ("config.py", "auth.py", "gunicorn_conf.py", "gunicorn_worker.py", "runner.py"):
        source = (server / module).read_text() if server.is_dir() else ""
        read |= set(re.findall(r'environ(?:\.get)?[(\[]\s*"([A-Z][A-Z0-9_]+)"', source))
    assert {"AGORA_TOKEN_HOST", "WEB_CONCURRENCY", "AGORA_TOKEN_HTTP", "AGORA_TOKEN_METRICS_PUBLIC",
            "APP_CERTIFICATE_FILE", "AGORA_TOKEN_AUTH_JWKS", "AGORA_TOKEN_AUTH_SECRET"} <= read  # fmt: skip
    assert read - {"APP_ID", "APP_CERTIFICATE"} <= listed, read - listed  # the credentials are listed as a pair
    assert gunicorn_worker.resolve_http is config.resolve_http  # one reading of AGORA_TOKEN_HTTP
    dockerfile = ROOT / "deploy" / "Dockerfile"
    if dockerfile.is_file():
        env_block = re.search(r"^ENV (.*?)\n(?=\S)", dockerfile.read_text(), re.M | re.S)
        assert env_block
        image = set(re.findall(r"([A-Z][A-Z0-9_]+)=", env_block.group(1)))
        # Python's own switch and the kernel's build check are not server settings.
        assert image - {"PYTHONUNBUFFERED", "AGORA_TOKEN_REQUIRE_EXTENSION"} <= listed, image - listed


# --------------------------------------------------------------------------------------------------
# other ways to run it


def test_uvicorn_import_string_app() -> None:
    """``uvicorn agora_token.server:app``: configured from the environment; refuses to start without it."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "agora_token.server:app", "--host", "127.0.0.1", "--port", str(port)]
    done = run(argv, server_env())
    assert done.returncode != 0
    assert "agora-token server: APP_ID (or AGORA_APP_ID) is not set" in done.stderr
    # Without lifespan there is no startup to fail: every request is told why, with a 503.
    with running([*argv, "--lifespan", "off"], server_env()) as proc:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/rtm/bob/", timeout=5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert "not configured" in error(response, 503)
        stop(proc)
    with serving(argv=argv, env=server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT), port=port) as (proc, url):
        check_rtm(ok(httpx.get(f"{url}/rtm/bob/", timeout=WAIT))["rtmToken"], "bob")
        stop(proc)


def test_cli_serve_subcommand() -> None:
    """``agora-token serve`` as the installed command line runs it."""
    check = run([sys.executable, "-m", "agora_token", "serve", "--help"])
    assert check.returncode == 0 and "--workers" in check.stdout
    done = run([sys.executable, "-m", "agora_token", "serve", "--port", str(free_port())], server_env())
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and "APP_ID" in done.stderr
