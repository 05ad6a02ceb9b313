"""Certificate rotation under load: ``agora-token serve`` keeps answering while its certificate is replaced.

Starts the server on 127.0.0.1 with the App Certificate in a file laid out as a Kubernetes Secret
volume lays it out (``cert`` -> ``..data/cert``, ``..data`` -> a timestamped directory), drives it
from 32 keep-alive connections asking for RTC tokens (a fresh uid each), and halfway through swaps in
a new certificate as the kubelet does (a new directory, then ``..data`` renamed over atomically). Two
runs by default:

* ``file``: one worker, ``--certificate-reload 1``: the server notices the change by itself;
* ``sighup``: ``--workers 2``, ``--certificate-reload 0`` (no polling): the swap is followed by a
  SIGHUP to the supervisor, which passes it on to every worker.

Every answer is checked: HTTP 200, and a token that verifies with exactly one of the two certificates
(never both, never neither); every token asked for more than one reload interval after the swap
(``--reload`` seconds; for SIGHUP, the same grace) must verify with the new certificate only. Prints the
counts; exits 1 on any failed request or wrong token.

    python benchmarks/rotation.py                       # both runs, 24 s each, 32 connections
    python benchmarks/rotation.py file --duration 40
    python benchmarks/rotation.py sighup --connections 64

The suite runs a shorter version of both (tests/test_server_rotation.py), through ``hammer`` and
``Counts`` below, with a server started by tests/processes.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Optional

from agora_token import AccessToken2

APP_ID = "970CA35de60c44645bbae8a215061b33"
OLD_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
NEW_CERTIFICATE = "0123456789abcdef0123456789abcdef"
SERVE = (
    "import argparse, sys; from agora_token.server import add_serve_arguments, serve; "
    "p = argparse.ArgumentParser(); add_serve_arguments(p); sys.exit(serve(p.parse_args(sys.argv[1:])))"
)
#: No single wait in here may take longer (a server starting, a request, a process stopping).
WAIT = 30.0


# --------------------------------------------------------------------------------------------------
# the certificate, as a Kubernetes Secret volume holds it


class SecretVolume:
    """A directory laid out as the kubelet lays out a Secret: ``cert`` -> ``..data/cert`` -> ``..<n>/cert``."""

    def __init__(self, directory: str, certificate: str) -> None:
        self.directory = directory
        self.version = 0
        self._write(certificate)
        os.symlink(os.path.join("..data", "cert"), self.path)

    @property
    def path(self) -> str:
        """The file the server is given (``--app-certificate-file``)."""
        return os.path.join(self.directory, "cert")

    def _write(self, certificate: str) -> None:
        self.version += 1
        version = os.path.join(self.directory, f"..{self.version}")
        os.mkdir(version)
        with open(os.path.join(version, "cert"), "w") as handle:
            handle.write(certificate + "\n")
        link = os.path.join(self.directory, "..data_tmp")
        os.symlink(os.path.basename(version), link)
        os.replace(link, os.path.join(self.directory, "..data"))  # atomic: the kubelet's swap

    def replace(self, certificate: str) -> None:
        """Swap in ``certificate`` atomically, as a Secret update does."""
        self._write(certificate)


# --------------------------------------------------------------------------------------------------
# load and the verdict


@dataclass
class Answer:
    sent: float  # time.monotonic() when the request was written
    status: int
    token: str


@dataclass
class Counts:
    """What a run found; ``problems`` is empty when the rotation held."""

    requests: int = 0
    failed: int = 0
    old: int = 0
    new: int = 0
    neither: int = 0
    both: int = 0
    after_grace: int = 0
    old_after_grace: int = 0
    first_new_after_swap: Optional[float] = None
    problems: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, answers: list[Answer], errors: int, swapped_at: float, grace: float, old: str, new: str) -> Counts:
        counts = cls(requests=len(answers) + errors, failed=errors)
        for answer in answers:
            if answer.status != 200:
                counts.failed += 1
                continue
            parsed = AccessToken2.parse(answer.token)
            by_old, by_new = parsed.verify(old), parsed.verify(new)
            counts.old += by_old and not by_new
            counts.new += by_new and not by_old
            counts.both += by_old and by_new
            counts.neither += not (by_old or by_new)
            if by_new and not by_old and answer.sent >= swapped_at:
                delay = answer.sent - swapped_at
                if counts.first_new_after_swap is None or delay < counts.first_new_after_swap:
                    counts.first_new_after_swap = delay
            if answer.sent > swapped_at + grace:
                counts.after_grace += 1
                counts.old_after_grace += by_old
        if counts.failed:
            counts.problems.append(f"{counts.failed} failed requests")
        if counts.neither or counts.both:
            counts.problems.append(f"{counts.neither} tokens verify with neither certificate, {counts.both} with both")
        if counts.old_after_grace:
            counts.problems.append(f"{counts.old_after_grace} tokens asked for after the grace still use the old one")
        if not counts.new or not counts.after_grace:
            counts.problems.append("no token was signed with the new certificate after the swap")
        return counts

    def lines(self) -> list[str]:
        seen = "never" if self.first_new_after_swap is None else f"{self.first_new_after_swap * 1000:.0f} ms"
        return [
            f"requests: {self.requests}, failed: {self.failed}",
            f"tokens: {self.old} old certificate only, {self.new} new only, {self.neither} neither, {self.both} both",
            f"asked for more than the grace after the swap: {self.after_grace}, of them with the old certificate: "
            f"{self.old_after_grace}; first new token {seen} after the swap",
        ]


async def _connection(host: str, port: int, deadline: float, first_uid: int, step: int,
                      answers: list[Answer], errors: list[str]) -> None:  # fmt: skip
    uid = first_uid
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), WAIT)
    try:
        while time.monotonic() < deadline:
            uid += step
            sent = time.monotonic()
            writer.write(f"GET /rtc/rotation/publisher/uid/{uid}/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
            status = int(head[9:12])
            length = next(int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:")
            body = await asyncio.wait_for(reader.readexactly(length), WAIT)
            token = json.loads(body).get("rtcToken", "") if status == 200 else ""
            answers.append(Answer(sent, status, token))
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, StopIteration) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()


async def _drive(host: str, port: int, connections: int, duration: float, swap_after: float,
                 swap: Callable[[], None]) -> tuple[list[Answer], list[str], float]:  # fmt: skip
    answers: list[Answer] = []
    errors: list[str] = []
    start = time.monotonic()
    loop = asyncio.get_running_loop()

    async def swap_later() -> float:
        await asyncio.sleep(swap_after)
        await loop.run_in_executor(None, swap)  # the file system and a signal: off the client's loop
        return time.monotonic()

    swapper = loop.create_task(swap_later())
    await asyncio.gather(*(_connection(host, port, start + duration, i, connections, answers, errors)
                           for i in range(connections)))  # fmt: skip
    return answers, errors, await swapper


def hammer(url: str, swap: Callable[[], None], *, connections: int = 32, duration: float = 24.0,
           grace: float = 1.0, old: str = OLD_CERTIFICATE, new: str = NEW_CERTIFICATE) -> Counts:  # fmt: skip
    """Load ``url`` for ``duration`` s from ``connections`` connections, ``swap()`` halfway, and count.

    ``swap`` replaces the certificate (and signals the server, where that is the trigger); it runs in
    a thread. The swap's time is when ``swap`` returned.
    """
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    answers, errors, swapped_at = asyncio.run(_drive(host, int(port), connections, duration, duration / 2, swap))
    counts = Counts.of(answers, len(errors), swapped_at, grace, old, new)
    counts.problems.extend(errors[:3])
    return counts


# --------------------------------------------------------------------------------------------------
# the runs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(mode: str, connections: int, duration: float, reload: float) -> Counts:
    """One run: a server of its own (its process group killed on the way out), loaded and rotated."""
    with tempfile.TemporaryDirectory(prefix="agora-rotation-") as directory:
        volume = SecretVolume(directory, OLD_CERTIFICATE)
        port = _free_port()
        workers, interval = ("1", str(reload)) if mode == "file" else ("2", "0")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_CERTIFICATE", "AGORA_APP_CERTIFICATE"))}
        env["APP_ID"] = APP_ID
        argv = [sys.executable, "-c", SERVE, "--port", str(port), "--workers", workers, "--app-certificate-file",
                volume.path, "--certificate-reload", interval, "--no-access-log"]  # fmt: skip
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_answering(url, proc)

            def swap() -> None:
                volume.replace(NEW_CERTIFICATE)
                if mode == "sighup":
                    proc.send_signal(signal.SIGHUP)

            return hammer(url, swap, connections=connections, duration=duration, grace=reload)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=WAIT)
            log.close()


def _wait_until_answering(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server did not answer within {WAIT:g} s")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modes", nargs="*", metavar="{file,sighup}", help="the runs (default: both)")
    parser.add_argument("--connections", type=int, default=32, help="(default: %(default)s)")
    parser.add_argument("--duration", type=float, default=24.0, help="seconds per run (default: %(default)s)")
    parser.add_argument(
        "--reload",
        type=float,
        default=1.0,
        help="the server's --certificate-reload, and the grace after the swap (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    for mode in args.modes:
        if mode not in ("file", "sighup"):
            parser.error(f"unknown run {mode!r}: file or sighup")
    failed = False
    for mode in args.modes or ["file", "sighup"]:
        what = "1 worker, the file watched" if mode == "file" else "--workers 2, SIGHUP"
        print(f"== {mode}: {what}; {args.connections} connections for {args.duration:g} s, swap at "
              f"{args.duration / 2:g} s, grace {args.reload:g} s")  # fmt: skip
        counts = run(mode, args.connections, args.duration, args.reload)
        for line in counts.lines():
            print("  " + line)
        print("  " + ("PASS" if not counts.problems else "FAIL: " + "; ".join(counts.problems)))
        failed |= bool(counts.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
