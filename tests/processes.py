"""Processes a test starts: each in a process group of its own, stopped with its children, every wait bounded.

A server started with ``--workers N`` has children (its workers) that hold its stdout and stderr pipes:
killing only the process the test started would leave them running, and reading the pipes would then
wait forever. So every process started here leads a new process group (a new session on POSIX), the
whole group is killed on the way out, and every wait and every read has a timeout.

``run`` is ``subprocess.run`` on those terms; ``running`` starts a process for the length of a ``with``
block; ``serving`` starts ``agora-token serve`` (or any command that serves HTTP) and waits until it
answers /healthz.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Optional

#: The longest any one wait may take: a process to end, a server to start. Generous, for free-threaded
#: builds on a loaded machine; a test that needs longer says so.
WAIT = 60.0

POSIX = os.name == "posix"
_NEW_GROUP = {"start_new_session": True} if POSIX else {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}

#: ``serve`` as a subprocess without the console script (which an uninstalled checkout lacks).
SERVE = (
    "import argparse, sys; from agora_token.server import add_serve_arguments, serve; "
    "p = argparse.ArgumentParser(); add_serve_arguments(p); sys.exit(serve(p.parse_args(sys.argv[1:])))"
)
#: The variables that configure a server: a test gives the ones it wants, the operator's never leak in.
SERVER_VARS = (
    "APP_ID", "APP_CERTIFICATE", "AGORA_APP_ID", "AGORA_APP_CERTIFICATE", "SERVER_PORT", "PORT", "CORS_ALLOW_ORIGIN",
    "AGORA_TOKEN_API_KEY", "AGORA_TOKEN_API_KEY_ENV", "AGORA_TOKEN_HOST", "WEB_CONCURRENCY", "AGORA_TOKEN_HTTP",
    "AGORA_TOKEN_METRICS_PUBLIC", "PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir", "APP_CERTIFICATE_FILE",
    "AGORA_TOKEN_CERTIFICATE_RELOAD", "AGORA_TOKEN_AUTH_JWKS", "AGORA_TOKEN_AUTH_SECRET",
    "AGORA_TOKEN_AUTH_SECRET_FILE", "AGORA_TOKEN_AUTH_AUDIENCE", "AGORA_TOKEN_AUTH_ISSUER", "AGORA_TOKEN_AUTH_LEEWAY",
    "AGORA_TOKEN_AUTH_CLAIMS", "AGORA_TOKEN_AUTH_JWKS_CACHE", "AGORA_TOKEN_AUTH_JWKS_MIN_INTERVAL",
)  # fmt: skip


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment without any server setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARS}
    env.update(extra)
    return env


def start(argv: Sequence[str], env: Optional[dict[str, str]] = None, *, stdin: Optional[int] = None,
          cwd: Optional[str] = None) -> subprocess.Popen[str]:  # fmt: skip
    """``argv`` leading a process group of its own, stdout and stderr piped as text."""
    return subprocess.Popen(
        list(argv), env=env, cwd=cwd, stdin=subprocess.DEVNULL if stdin is None else stdin,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **_NEW_GROUP,  # type: ignore[call-overload]
    )  # fmt: skip


def kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL to every process of ``proc``'s group (on Windows, ``proc`` alone), then reap ``proc``."""
    if POSIX:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group outlives its leader while a member lives
    else:
        with contextlib.suppress(OSError):
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=WAIT)


def _close_pipes(proc: subprocess.Popen[str]) -> None:
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def finish(proc: subprocess.Popen[str], timeout: float = WAIT, stdin: Optional[str] = None) -> tuple[str, str]:
    """``proc``'s stdout and stderr once it has ended; past ``timeout`` its group is killed and the test fails."""
    try:
        return proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        try:  # the group is dead, so the pipes reach their end
            _, err = proc.communicate(timeout=10)
        except (subprocess.TimeoutExpired, ValueError):
            err = ""
        _close_pipes(proc)
        message = f"{proc.args!r} did not end within {timeout:g} s; its stderr ends:\n{err[-3000:]}"
        raise AssertionError(message) from None


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = WAIT) -> tuple[str, str]:
    """``sig`` to ``proc`` alone (as a supervisor sends it), then its output once it has ended (``finish``)."""
    proc.send_signal(sig)
    return finish(proc, timeout)


def run(argv: Sequence[str], env: Optional[dict[str, str]] = None, *, timeout: float = WAIT,
        input: Optional[str] = None, cwd: Optional[str] = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``subprocess.run(argv, capture_output=True, text=True)``, in a group that is killed whole at the end."""
    proc = start(argv, env, stdin=None if input is None else subprocess.PIPE, cwd=cwd)
    try:
        out, err = finish(proc, timeout, input)
    finally:
        kill_group(proc)  # anything it left running
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


@contextlib.contextmanager
def running(argv: Sequence[str], env: Optional[dict[str, str]] = None) -> Iterator[subprocess.Popen[str]]:
    """``argv`` for the length of the block; its whole group is killed on the way out, even after it ended."""
    proc = start(argv, env)
    try:
        yield proc
    finally:
        kill_group(proc)
        _close_pipes(proc)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (free when asked; a test binds it soon after)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answering(url: str, proc: subprocess.Popen[str], path: str = "/healthz",
                         headers: Optional[dict[str, str]] = None, timeout: float = WAIT) -> None:  # fmt: skip
    """Poll ``url + path`` until it answers 200; fail at once if ``proc`` ends, and after ``timeout``."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url + path, headers=headers or {})
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = finish(proc, 10)
            raise AssertionError(f"the server exited with {proc.returncode} before answering:\n{err[-3000:]}{out}")
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"the server did not answer {path} within {timeout:g} s")


@contextlib.contextmanager
def serving(args: Sequence[str] = (), env: Optional[dict[str, str]] = None, *, argv: Optional[list[str]] = None,
            port: Optional[int] = None, healthz_headers: Optional[dict[str, str]] = None,
            ) -> Iterator[tuple[subprocess.Popen[str], str]]:  # fmt: skip
    """``agora-token serve ARGS`` (or ``argv``, told to listen on ``port``) until the block ends: (process, URL).

    ``serve`` gets ``--port``; an ``argv`` of another server must name ``port`` itself. The server
    answers /healthz before the block begins; its whole group is killed after it.
    """
    port = free_port() if port is None else port
    command = argv if argv is not None else [sys.executable, "-c", SERVE, "--port", str(port), *args]
    with running(command, env) as proc:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(url, proc, headers=healthz_headers)
        yield proc, url
