"""Rerunnable attack run against ``agora-token serve`` on 127.0.0.1: one line per case, figure and PASS/FAIL.

Starts its own servers (throwaway credentials, one worker, default options unless a case says) and
reproduces each hostile client of issue 12:

* flood: the server under ``ulimit -n 1024``; 1,100 idle plus 200 slowloris connections (a header line
  every 3 s); 20 fresh requests must each get a valid token within 15 s, and >= 90 % of the 1,300 must
  be closed by the server within 30 s;
* big-headers: 6 unterminated 10 MiB headers must grow the server's RSS by < 50 MiB;
* log-newline, log-escape, log-secret: a forged line, a raw ESC, a percent-encoded certificate;
* disconnect: a client leaving mid-body must not be a 500, a traceback or an internal error;
* utf8-path: ``/rtm/%ff/`` must be a 400 naming the segment;
* host: ``GET /ping/`` with ``Host: evil.example`` must not answer with a Location;
* json-number, json-depth: the same 400 with the true reason on every Python;
* h11-methods: under ``--http h11``, 8,000 distinct methods must not grow /metrics;
* gunicorn: 2 uvicorn workers under gunicorn write the access log and report one /metrics sum;
* mixed: 32 connections mixing valid and invalid requests for 30 s: no 5xx, every token verified.

Every loop is bounded in count and time and only 127.0.0.1 is targeted.

    python benchmarks/attack.py                 # every case
    python benchmarks/attack.py flood mixed     # some cases
    python benchmarks/attack.py --mixed-seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Callable, Optional

from agora_token import AccessToken2

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
HOST = "127.0.0.1"
SERVE = (
    "import argparse, sys; from agora_token.server import add_serve_arguments, serve; "
    "p = argparse.ArgumentParser(); add_serve_arguments(p); sys.exit(serve(p.parse_args(sys.argv[1:])))"
)
#: The python whose agora_token the cases attack (``--baseline REV``: that revision's, from benchmarks/baseline.py).
SERVER_PYTHON = [sys.executable]
Result = tuple[bool, str]


# --------------------------------------------------------------------------------------------------
# servers and raw HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """``agora-token serve`` (or another command) in a subprocess, its stderr in a temporary file."""

    def __init__(self, args: Optional[list[str]] = None, nofile: Optional[int] = None,
                 argv: Optional[list[str]] = None, env: Optional[dict[str, str]] = None) -> None:  # fmt: skip
        self.port = free_port()
        self.log_path = tempfile.mktemp(prefix="agora-attack-", suffix=".log")
        environ = dict(os.environ, APP_ID=APP_ID, APP_CERTIFICATE=APP_CERTIFICATE, **(env or {}))
        command = argv or [SERVER_PYTHON[0], "-c", SERVE, "--port", str(self.port), *(args or [])]
        command = [a.replace("{port}", str(self.port)) for a in command]

        def limit() -> None:
            if nofile is not None:
                import resource

                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(command, env=environ, stderr=self.log, stdout=self.log, preexec_fn=limit)
        deadline = time.monotonic() + 30
        while True:
            try:
                if http(self.port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start: {self.text()[-2000:]}")
            time.sleep(0.1)

    def text(self) -> str:
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "backslashreplace")

    def raw_log(self) -> bytes:
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read()

    def rss_mib(self) -> float:
        """Resident memory of the server process and its children (workers), in MiB."""
        total = 0
        for pid in [self.proc.pid, *children(self.proc.pid)]:
            with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def http(port: int, method: str, target: str, body: bytes = b"", headers: str = "",
         host: str = HOST, timeout: float = 15) -> tuple[int, bytes, bytes]:  # fmt: skip
    """One request on a fresh connection: (status, head, body); (0, b"", b"") if the server closed first."""
    with socket.create_connection((HOST, port), timeout=timeout) as conn:
        conn.settimeout(timeout)
        conn.sendall(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
                     f"Connection: close\r\n{headers}\r\n".encode() + body)  # fmt: skip
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, rest = data.partition(b"\r\n\r\n")
    return (int(head[9:12]) if head[:5] == b"HTTP/" else 0), head, rest


def valid_token(body: bytes, field: str) -> bool:
    try:
        token = json.loads(body)[field]
        return AccessToken2.parse(token).verify(APP_CERTIFICATE)
    except Exception:
        return False


def metric(text: str, name: str) -> float:
    match = re.search(r"^" + re.escape(name) + r" ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


# --------------------------------------------------------------------------------------------------
# the cases


async def _hold(port: int, slow: bool, closed: list[float], start: float, until: float) -> None:
    """One attacking connection: idle, or slowloris (a header line every 3 s); notes when the server closes it."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 20)
    except (OSError, asyncio.TimeoutError):
        return
    try:
        if slow:
            writer.write(b"GET /ping HTTP/1.1\r\nHost: x\r\n")
        while time.monotonic() < until:
            try:
                data = await asyncio.wait_for(reader.read(65536), 3 if slow else until - time.monotonic())
            except asyncio.TimeoutError:
                if slow:
                    writer.write(b"X-Slow: %d\r\n" % random.randrange(1000))
                continue
            if not data:  # the server closed it (after a 408 or 503, or at once)
                closed.append(time.monotonic() - start)
                return
    except (OSError, ConnectionError):
        closed.append(time.monotonic() - start)
    finally:
        writer.close()


def case_flood(args: argparse.Namespace) -> list[tuple[str, Result]]:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))  # this client holds 1,300 sockets
    server = Server(nofile=1024)
    try:
        idle_n, slow_n = 1100, 200

        async def run() -> tuple[list[float], list[tuple[bool, float]]]:
            closed: list[float] = []
            start = time.monotonic()
            until = start + 30
            holders = [asyncio.ensure_future(_hold(server.port, i >= idle_n, closed, start, until))
                       for i in range(idle_n + slow_n)]  # fmt: skip
            await asyncio.sleep(2)  # every attacker connected
            fresh = []
            for i in range(20):
                t = time.monotonic()
                try:
                    status, _, body = await asyncio.get_running_loop().run_in_executor(
                        None, lambda i=i: http(server.port, "GET", f"/rtm/fresh-{i}/", timeout=15)
                    )
                    good = status == 200 and valid_token(body, "rtmToken")
                except OSError:
                    good = False
                fresh.append((good, time.monotonic() - t))
            await asyncio.gather(*holders)
            return closed, fresh

        closed, fresh = asyncio.run(run())
    finally:
        server.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    good = sum(1 for ok, took in fresh if ok and took <= 15)
    slowest = max(took for _, took in fresh)
    share = len(closed) / (idle_n + slow_n)
    return [
        ("flood-fresh", (good == 20, f"{good}/20 fresh requests got a valid token within 15 s "
                                     f"(slowest {slowest:.2f} s) with 1,100 idle + 200 slowloris open")),
        ("flood-closed", (share >= 0.9, f"{len(closed)}/1300 ({share:.0%}) attacking connections closed by the "
                                        f"server within 30 s (last at {max(closed, default=0):.1f} s)")),
    ]  # fmt: skip


def case_big_headers(args: argparse.Namespace) -> list[tuple[str, Result]]:
    server = Server()
    try:
        time.sleep(0.5)
        before = server.rss_mib()

        peak = [before]

        async def one(release: asyncio.Event) -> int:
            sent = 0
            writer = None
            try:
                _, writer = await asyncio.open_connection(HOST, server.port)
                writer.write(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ")
                chunk = b"a" * 65536
                while sent < 10 * 1024 * 1024:
                    writer.write(chunk)
                    await asyncio.wait_for(writer.drain(), 10)
                    sent += len(chunk)
            except (OSError, ConnectionError, asyncio.TimeoutError):
                pass
            await release.wait()  # hold the connection open while the server's memory is measured
            if writer is not None:
                writer.close()
            return sent

        async def all_six() -> list[int]:
            release = asyncio.Event()
            tasks = [asyncio.ensure_future(one(release)) for _ in range(6)]
            for _ in range(20):  # up to 2 s: sample while all six are open (or were refused)
                await asyncio.sleep(0.1)
                peak[0] = max(peak[0], server.rss_mib())
            release.set()
            return await asyncio.gather(*tasks)

        sent = asyncio.run(all_six())
        growth = peak[0] - before
        alive = http(server.port, "GET", "/ping")[0] == 200
    finally:
        server.stop()
    return [
        (
            "big-headers",
            (
                growth < 50 and alive,
                f"RSS +{growth:.1f} MiB after 6 unterminated 10 MiB headers "
                f"(the server took at most {max(sent) / 1024:.0f} KiB of one)",
            ),
        )
    ]


def case_logs_and_answers(args: argparse.Namespace) -> list[tuple[str, Result]]:
    server = Server()
    encoded = "".join(f"%{ord(c):02X}" for c in APP_CERTIFICATE)
    results = []
    try:
        http(server.port, "GET", "/rtm/x%0Aforged-line%20INFO%20owned/")
        http(server.port, "GET", "/rtm/x%1b%5b31m/")
        http(server.port, "GET", f"/rtm/bob/?k={encoded}&p={APP_CERTIFICATE}")
        # disconnect mid-body
        before = http(server.port, "GET", "/metrics")[2].decode()
        with socket.create_connection((HOST, server.port)) as conn:
            conn.sendall(b"POST /getToken HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            time.sleep(0.3)
        time.sleep(0.5)
        after = http(server.port, "GET", "/metrics")[2].decode()
        utf8 = http(server.port, "GET", "/rtm/%ff/")
        host = http(server.port, "GET", "/ping/", host="evil.example")
        number = http(
            server.port, "POST", "/getToken", b'{"tokenType": "rtc", "channel": "c", "expire": ' + b"9" * 5000 + b"}"
        )
        deep = http(server.port, "POST", "/getToken", b"[" * 5000 + b"]" * 5000)
        time.sleep(0.3)
        log = server.raw_log()
    finally:
        server.stop()
    lines = log.split(b"\n")
    forged = [line for line in lines if line.startswith(b"forged-line")]
    results.append(("log-newline", (not forged, f"{len(forged)} forged log lines")))
    escapes = log.count(b"\x1b")
    results.append(("log-escape", (escapes == 0, f"{escapes} raw ESC bytes in the log")))
    leaks = log.lower().count(APP_CERTIFICATE.lower().encode()) + log.lower().count(encoded.lower().encode())
    results.append(("log-secret", (leaks == 0, f"{leaks} certificate occurrences (plain or percent-encoded) "
                                               "in the log")))  # fmt: skip
    internal = (metric(after, 'agora_token_errors_total{kind="internal"}')
                - metric(before, 'agora_token_errors_total{kind="internal"}'))  # fmt: skip
    tracebacks = log.count(b"Traceback")
    gone = metric(after, 'agora_token_errors_total{kind="client_disconnected"}')
    results.append(("disconnect", (internal == 0 and tracebacks == 0 and b'" 500 ' not in log,
                                   f"internal errors +{internal:.0f}, {tracebacks} tracebacks, counted as "
                                   f"client_disconnected: {gone:.0f}")))  # fmt: skip
    message = json.loads(utf8[2] or b"{}").get("error", "")
    results.append(
        ("utf8-path", (utf8[0] == 400 and message.startswith("uid "), f"/rtm/%ff/ -> {utf8[0]} {message!r}"))
    )
    location = [line for line in host[1].split(b"\r\n") if line.lower().startswith(b"location")]
    results.append(
        (
            "host",
            (
                not location and b"evil" not in host[1],
                f"/ping/ with Host: evil.example -> {host[0]}, Location: {location or 'none'}",
            ),
        )
    )
    for name, answer, want in (
        ("json-number", number, "malformed JSON body: a number is longer than 64 digits"),
        ("json-depth", deep, "malformed JSON body: nested more than 32 levels deep"),
    ):
        said = json.loads(answer[2] or b"{}").get("error", "")
        results.append((name, (answer[0] == 400 and said == want, f"{answer[0]} {said!r}")))
    return results


def case_h11_methods(args: argparse.Namespace) -> list[tuple[str, Result]]:
    server = Server(["--http", "h11", "--no-access-log"])
    try:
        before = len(http(server.port, "GET", "/metrics")[2])

        def burst(offset: int) -> None:
            with socket.create_connection((HOST, server.port), timeout=15) as conn:
                for i in range(offset, offset + 1000):
                    conn.sendall(f"M{i}X /ping HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                    if not recv_answer(conn):
                        return

        async def all_bursts() -> None:
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(None, burst, k * 1000) for k in range(8)))

        asyncio.run(all_bursts())
        text = http(server.port, "GET", "/metrics")[2]
        after = len(text)
        other = metric(text.decode(), 'agora_token_http_requests_total{method="other",route="/ping",status="405"}')
    finally:
        server.stop()
    return [
        (
            "h11-methods",
            (
                after - before < 4096 and other == 8000,
                f"/metrics {before} -> {after} bytes after 8,000 distinct methods "
                f'({other:.0f} counted as method="other")',
            ),
        )
    ]


def recv_answer(conn: socket.socket) -> bool:
    """Read one keep-alive answer (head and Content-Length body) from ``conn``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        rest += chunk
    return True


def case_gunicorn(args: argparse.Namespace) -> list[tuple[str, Result]]:
    if shutil.which("gunicorn") is None and not _has_module("gunicorn"):
        return [("gunicorn", (False, "gunicorn is not installed"))]
    argv = [SERVER_PYTHON[0], "-m", "gunicorn", "-c", "python:agora_token.server.gunicorn_conf",
            "--bind", f"{HOST}:{{port}}", "--workers", "2"]  # fmt: skip
    server = Server(argv=argv)
    try:
        for i in range(40):
            http(server.port, "GET", f"/rtm/g{i}/")
        time.sleep(0.3)
        totals = []
        for _ in range(6):  # several reads: each worker answers some of them
            text = http(server.port, "GET", "/metrics")[2].decode()
            totals.append(metric(text, 'agora_token_tokens_issued_total{type="rtm"}'))
        log = server.text()
    finally:
        server.stop()
    access = len(re.findall(r'"GET /rtm/g\d+/ HTTP/1.1" 200', log))
    return [
        ("gunicorn-log", (access == 40, f"{access}/40 access-log lines under gunicorn")),
        ("gunicorn-metrics", (set(totals) == {40.0}, f"rtm tokens reported by 6 /metrics reads: "
                                                     f"{sorted(set(totals))} (want 40 each)")),
    ]  # fmt: skip


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


MIXED_BAD: list[tuple[str, str, bytes]] = [
    ("GET", "/rtm/%ff/", b""),
    ("GET", "/rtc/room/admin/uid/1/", b""),
    ("GET", "/rtc/room/publisher/uid/x/?expiry=-1", b""),
    ("POST", "/getToken", b"{"),
    ("POST", "/getToken", b"[" * 3000 + b"]" * 3000),
    ("POST", "/getToken", b'{"tokenType": "rtc", "channel": "c", "expire": ' + b"9" * 4400 + b"}"),
    ("POST", "/getToken", b"\xff\xfe"),
    ("GET", "/nowhere/", b""),
    ("DELETE", "/rtm/bob/", b""),
    ("GET", "/rtm/a%zz/", b""),
]


def case_mixed(args: argparse.Namespace) -> list[tuple[str, Result]]:
    server = Server(["--no-access-log"])
    counts = {"ok": 0, "bad": 0, "5xx": 0, "unverified": 0, "wrong": 0}

    async def connection(seed: int, until: float) -> None:
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection(HOST, server.port)
        try:
            while time.monotonic() < until:
                if rng.random() < 0.5:
                    uid = f"u{rng.randrange(10**6)}"
                    method, target, body, field = "GET", f"/rtm/{uid}/", b"", "rtmToken"
                else:
                    method, target, body = rng.choice(MIXED_BAD)
                    field = ""
                writer.write(f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                             + body)  # fmt: skip
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
                answer = await reader.readexactly(length)
                status = int(head[9:12])
                if status >= 500:
                    counts["5xx"] += 1
                elif field:
                    if status != 200:
                        counts["wrong"] += 1
                    elif valid_token(answer, field):
                        counts["ok"] += 1
                    else:
                        counts["unverified"] += 1
                elif 400 <= status < 500 and "error" in json.loads(answer):
                    counts["bad"] += 1
                else:
                    counts["wrong"] += 1
        finally:
            writer.close()

    async def run() -> None:
        until = time.monotonic() + args.mixed_seconds
        await asyncio.gather(*(connection(i, until) for i in range(32)))

    try:
        asyncio.run(run())
    finally:
        server.stop()
    good = counts["5xx"] == 0 and counts["unverified"] == 0 and counts["wrong"] == 0 and counts["ok"] > 0
    return [("mixed", (good, f"{args.mixed_seconds:g} s x 32 connections: {counts['ok']} tokens verified, "
                             f"{counts['bad']} JSON 4xx, {counts['5xx']} 5xx, {counts['unverified']} unverified, "
                             f"{counts['wrong']} wrong answers"))]  # fmt: skip


CASES: dict[str, Callable[[argparse.Namespace], list[tuple[str, Result]]]] = {
    "flood": case_flood,
    "big-headers": case_big_headers,
    "logs": case_logs_and_answers,
    "h11-methods": case_h11_methods,
    "gunicorn": case_gunicorn,
    "mixed": case_mixed,
}


def main(argv: Optional[list[str]] = None) -> int:
    """Run the chosen cases (default: all); exit 1 if any FAILs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"cases to run: {', '.join(CASES)} (default: all)")
    parser.add_argument("--mixed-seconds", type=float, default=30.0, help="length of the mixed case (30)")
    parser.add_argument(
        "--baseline", metavar="REV", help="attack the server of this revision instead (benchmarks/baseline.py)"
    )
    args = parser.parse_args(argv)
    if args.baseline:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from baseline import python_of

        SERVER_PYTHON[0] = str(python_of(args.baseline))
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; the cases are {', '.join(CASES)}")
    failed = 0
    for name in args.cases or list(CASES):
        for label, (passed, figure) in CASES[name](args):
            failed += not passed
            print(f"{'PASS' if passed else 'FAIL'}  {label:17} {figure}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
