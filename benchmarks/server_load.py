"""Bounded loopback load test of ``agora-token serve``: throughput, p50/p99, and every token verified.

Starts the server (one worker, or ``--workers N``) on 127.0.0.1 with throwaway credentials, drives it
from N keep-alive connections with a mix of every token route (raw HTTP/1.1 on asyncio, so the client
costs little next to the server), stops at ``--requests`` or ``--duration``, then checks every answer:
HTTP 200, a 007 token signed with the certificate, and the services, uid, channel, role and lifetime
asked for. Exits 1 if any answer fails.

    python benchmarks/server_load.py --requests 50000 --connections 64 --duration 30
    python benchmarks/server_load.py --workers 2
    python benchmarks/server_load.py --url http://127.0.0.1:8080 --app-certificate ...  # a running server
    python benchmarks/server_load.py --jwt ES256    # user authorization on: a JWT per request (see jwt_load)
    python benchmarks/server_load.py --plot "1 worker"   # also a row of the docs' chart (benchmarks/charts.py)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from typing import IO, Optional
from urllib.parse import urlsplit

from agora_token import AccessToken2
from agora_token.services import ChatPrivilege, RtcPrivilege, RtmPrivilege, ServiceChat, ServiceRtc, ServiceRtm

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
PUBLISH = {RtcPrivilege.PUBLISH_AUDIO_STREAM, RtcPrivilege.PUBLISH_VIDEO_STREAM, RtcPrivilege.PUBLISH_DATA_STREAM}


@dataclass
class Ask:
    """One request and what its answer must contain."""

    method: str
    path: str
    body: bytes
    fields: tuple[str, ...]  # JSON keys of the token(s) in the answer
    expects: tuple[tuple[str, object], ...]  # per field: (kind, detail)
    expire: int
    user: str = ""  # the user the request is for ("" for the Chat app token): a JWT's sub, with --jwt
    headers: bytes = b""  # extra header lines, each ending in CRLF (the Authorization header, with --jwt)


def make_asks(count: int, one_user: bool = False) -> list[Ask]:
    """A deterministic mix of every token route, with varying channels, users and lifetimes.

    ``one_user``: each request is for one user (RTE's RTM user is its RTC user), as user authorization
    requires of a request carrying one user's JWT.
    """
    asks = []
    for i in range(count):
        expire = 600 + i % 3000
        channel = f"room-{i % 97}"
        kind = i % 6
        role = "publisher" if i % 2 else "subscriber"
        if kind == 0:
            uid = i % 4_000_000_000
            asks.append(
                Ask(
                    "GET",
                    f"/rtc/{channel}/{role}/uid/{uid}/?expiry={expire}",
                    b"",
                    ("rtcToken",),
                    (("rtc", (channel, str(uid) if uid else "", role)),),
                    expire,
                    str(uid),
                )
            )
        elif kind == 1:
            account = f"user-{i}"
            asks.append(
                Ask(
                    "GET",
                    f"/rtc/{channel}/{role}/userAccount/{account}/?expiry={expire}",
                    b"",
                    ("rtcToken",),
                    (("rtc", (channel, account, role)),),
                    expire,
                    account,
                )
            )
        elif kind == 2:
            asks.append(
                Ask(
                    "GET",
                    f"/rtm/user-{i}/?expiry={expire}",
                    b"",
                    ("rtmToken",),
                    (("rtm", f"user-{i}"),),
                    expire,
                    f"user-{i}",
                )  # fmt: skip
            )
        elif kind == 3:
            rtm = str(i) if one_user else f"rtm-{i}"
            asks.append(
                Ask(
                    "GET",
                    f"/rte/{channel}/{role}/uid/{i}/{'' if one_user else rtm + '/'}?expiry={expire}",
                    b"",
                    ("rtcToken", "rtmToken"),
                    # RTE's RTM token also joins the channel as an RTM stream channel (two services).
                    (("rtc", (channel, str(i) if i else "", role)), ("rtm-stream", (rtm, channel))),
                    expire,
                    str(i),
                )
            )
        elif kind == 4:
            user = f"chat-{i}" if i % 4 else ""
            path = f"/chat/account/{user}/?expiry={expire}" if user else f"/chat/app/?expiry={expire}"
            asks.append(Ask("GET", path, b"", ("chatToken",), (("chat", user),), expire, user))
        else:
            body = {"tokenType": "rtc", "channel": channel, "role": role, "uid": str(i), "expire": expire}
            asks.append(Ask("POST", "/getToken", json.dumps(body).encode(), ("token",),
                            (("rtc", (channel, str(i) if i else "", role)),), expire, str(i)))  # fmt: skip
    return asks


def check(ask: Ask, status: int, body: bytes, certificate: str, app_id: str) -> Optional[str]:
    """None if the answer is right for ``ask``, else what is wrong."""
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    try:
        data = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:200]!r}"
    for field, (kind, detail) in zip(ask.fields, ask.expects):
        token = data.get(field)
        if not isinstance(token, str):
            return f"no {field} in {data!r}"
        parsed = AccessToken2.parse(token)
        if not parsed.verify(certificate):
            return f"{field} does not verify"
        if (
            parsed.app_id != app_id
            or parsed.expire != ask.expire
            or len(parsed.services) != (2 if kind == "rtm-stream" else 1)
        ):
            return f"{field}: wrong app id, lifetime or service count"
        service = parsed.services[0]
        if kind == "rtm-stream":  # the RTC join and data stream in the channel, then the RTM login
            user, channel = detail  # type: ignore[misc]
            stream, service = parsed.services
            if not (
                isinstance(stream, ServiceRtc)
                and (stream.channel_name, stream.uid) == (channel, user)
                and set(stream.privileges) == {RtcPrivilege.JOIN_CHANNEL, RtcPrivilege.PUBLISH_DATA_STREAM}
            ):
                return f"{field}: wrong stream channel service {stream!r}"  # fmt: skip
            kind, detail = "rtm", user
        if kind == "rtc":
            channel, uid, role = detail  # type: ignore[misc]
            want = {RtcPrivilege.JOIN_CHANNEL} | (PUBLISH if role == "publisher" else set())
            ok = (
                isinstance(service, ServiceRtc)
                and service.channel_name == channel
                and service.uid == uid
                and set(service.privileges) == want
                and set(service.privileges.values()) == {ask.expire}
            )
        elif kind == "rtm":
            ok = (
                isinstance(service, ServiceRtm)
                and service.user_id == detail
                and service.privileges == {RtmPrivilege.LOGIN: ask.expire}
            )
        else:
            privilege = ChatPrivilege.USER if detail else ChatPrivilege.APP
            ok = (isinstance(service, ServiceChat) and service.user_id == detail
                  and service.privileges == {privilege: ask.expire})  # fmt: skip
        if not ok:
            return f"{field} grants the wrong thing: {service!r}"
    return None


async def _connection(
    host: str,
    port: int,
    asks: list[Ask],
    next_index: itertools.count[int],
    deadline: float,
    results: list[Optional[tuple[int, bytes, float]]],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while time.perf_counter() < deadline:
            i = next(next_index)
            if i >= len(asks):
                return
            ask = asks[i]
            head = f"{ask.method} {ask.path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(ask.body)}\r\n"
            if ask.headers:
                head += ask.headers.decode()
            start = time.perf_counter()
            writer.write(
                head.encode() + (b"Content-Type: application/json\r\n" if ask.body else b"") + b"\r\n" + ask.body
            )
            header = await reader.readuntil(b"\r\n\r\n")
            status = int(header[9:12])
            length = 0
            for line in header.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            results[i] = (status, body, time.perf_counter() - start)
    finally:
        writer.close()


async def drive(
    host: str, port: int, asks: list[Ask], connections: int, duration: float
) -> tuple[list[Optional[tuple[int, bytes, float]]], float]:
    """Send ``asks`` over ``connections`` keep-alive connections until done or ``duration`` passes."""
    results: list[Optional[tuple[int, bytes, float]]] = [None] * len(asks)
    counter = itertools.count()
    start = time.perf_counter()
    await asyncio.gather(
        *(_connection(host, port, asks, counter, start + duration, results) for _ in range(connections))
    )
    return results, time.perf_counter() - start


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    workers: int,
    access_log: bool,
    log: IO[bytes],
    package: str = "agora_token.server",
    extra_env: Optional[dict[str, str]] = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """``agora-token serve`` in a subprocess (through the server ``package``, so the CLI is not needed)."""
    port = _free_port()
    env = dict(os.environ, APP_ID=APP_ID, APP_CERTIFICATE=APP_CERTIFICATE, **(extra_env or {}))
    argv = ["--port", str(port), "--workers", str(workers), "--log-level", "info"]
    if not access_log:
        argv.append("--no-access-log")
    code = (
        f"import argparse, sys; from {package} import add_serve_arguments, serve; "
        "p = argparse.ArgumentParser(); add_serve_arguments(p); sys.exit(serve(p.parse_args(sys.argv[1:])))"
    )
    # The log (one access line per request) goes to a file, as it would in production.
    proc = subprocess.Popen([sys.executable, "-c", code, *argv], env=env, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not start")


def tree_cpu_seconds(pid: int) -> Optional[float]:
    """CPU time used so far by ``pid`` and its live children (Linux /proc; None elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, found = 0.0, False
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            found = True
    return total if found else None


def main(argv: Optional[list[str]] = None) -> int:
    """Run the load test and print requests/s, p50, p99 and the verification result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50_000, help="requests to send (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=30.0, help="time cap in seconds (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=2_000, help="untimed requests first (default: %(default)s)")
    parser.add_argument("--no-access-log", action="store_true", help="start the server without its access log")
    parser.add_argument("--url", help="test a running server instead (http://127.0.0.1:PORT)")
    parser.add_argument(
        "--server-package",
        default="agora_token.server",
        help="the package whose serve() is started, e.g. a baseline from benchmarks/baseline.py",
    )
    parser.add_argument(
        "--jwt", choices=("HS256", "RS256", "ES256", "EdDSA"),
        help="turn user authorization on and send each request with a JWT (signed with ALG, made before the run) "
        "for that request's user; compare the CPU per request with a run without it",
    )  # fmt: skip
    parser.add_argument("--plot", metavar="LABEL", help="also add this run, as LABEL, to the docs' chart and table")
    parser.add_argument("--app-id", default=APP_ID)
    parser.add_argument("--app-certificate", default=APP_CERTIFICATE)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()  # the client must not be the bottleneck; plain asyncio works too
    except ImportError:
        pass

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    proc = None
    url = args.url
    log = tempfile.TemporaryFile()
    warmup, asks = make_asks(args.warmup, bool(args.jwt)), make_asks(args.requests, bool(args.jwt))
    auth_env: dict[str, str] = {}
    if args.jwt:
        if args.url:
            raise SystemExit("--jwt starts its own server: drop --url")
        from jwt_load import sign_asks  # beside this file

        seconds = time.perf_counter()
        auth_env = sign_asks(args.jwt, [*warmup, *asks], tempfile.mkdtemp(prefix="agora-load-jwt-"))
        print(f"signed {len(warmup) + len(asks)} JWTs ({args.jwt}) in {time.perf_counter() - seconds:.1f} s, "
              "before the run")  # fmt: skip
    if url is None:
        proc, url = start_server(args.workers, not args.no_access_log, log, args.server_package, auth_env)
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("this load test only runs on loopback")
    with urllib.request.urlopen(url + "/healthz", timeout=5) as answer:
        kernel = json.loads(answer.read()).get("backend", "?")
    try:
        if args.warmup:
            asyncio.run(drive(host, port, warmup, args.connections, args.duration))
        server_cpu = tree_cpu_seconds(proc.pid) if proc is not None else None
        client_cpu = time.process_time()
        results, elapsed = asyncio.run(drive(host, port, asks, args.connections, args.duration))
        client_cpu = time.process_time() - client_cpu
        if server_cpu is not None and proc is not None:
            server_cpu = (tree_cpu_seconds(proc.pid) or 0.0) - server_cpu
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    log.seek(0)
    log_lines = log.read().count(b"\n")
    log.close()

    done = [(ask, r) for ask, r in zip(asks, results) if r is not None]
    latencies = sorted(r[2] for _, r in done)
    failures = [(ask, error) for ask, (status, body, _) in done
                if (error := check(ask, status, body, args.app_certificate, args.app_id))]  # fmt: skip
    rate = len(done) / elapsed
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(
        f"server: {'--url ' + url if args.url else f'{args.workers} worker(s)'}, {kernel} kernel, "
        f"{args.connections} connections,"
        + (
            " access log as that server has it"
            if args.url
            else f" access log {'off' if args.no_access_log else 'on'} ({log_lines} server log lines)"
        )
        + (f", user authorization on ({args.jwt} JWT per request)" if args.jwt else "")
    )
    print(f"requests: {len(done)} of {len(asks)} in {elapsed:.2f} s  ->  {rate:,.0f} req/s")
    print(f"latency: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {latencies[-1] * 1000:.2f} ms")
    cpu = f"client {client_cpu / len(done) * 1e6:.0f} µs"
    if server_cpu is not None:
        cpu = f"server {server_cpu / len(done) * 1e6:.0f} µs, " + cpu
    print(f"CPU per request: {cpu} (this machine has {os.cpu_count()} CPUs; load average before the run {load_before})")
    print(f"verified: {len(done) - len(failures)} of {len(done)} answers are valid tokens for their request")
    for ask, error in failures[:5]:
        print(f"  FAIL {ask.method} {ask.path}: {error}")
    if args.plot and done and not failures:
        import charts  # benchmarks/charts.py (matplotlib): one row of docs/assets/benchmarks/server.*

        row = {"label": args.plot, "requests_per_s": rate, "p50_ms": p50, "p99_ms": p99,
               "server_cpu_us": None if server_cpu is None else server_cpu / len(done) * 1e6,
               "connections": args.connections, "requests": len(done)}  # fmt: skip
        for path in charts.server(row):
            print(f"wrote {path}", file=sys.stderr)
    return 1 if failures or not done else 0


if __name__ == "__main__":
    sys.exit(main())
