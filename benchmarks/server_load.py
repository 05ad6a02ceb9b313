"""Load test of ``agora-token serve`` on loopback: requests/s, latency and server CPU per request, every answer checked.

Starts the server (one worker, or ``--workers N``) on 127.0.0.1 with throwaway credentials, and, with
``--baseline REV``, the server of another revision of this repository (``benchmarks/baseline.py``
installs it whole in a virtual environment of its own) beside it. Then, for each server:

1. ``--verify`` requests, a mix of every token route sent by this script's own client, each answer
   checked: HTTP 200, 007 tokens signed with the certificate, and the services, users, channel,
   privileges and lifetime asked for (RTE's RTM token holds an RTC stream-channel service too);
2. ``--rounds`` load rounds, the servers interleaved (A B, B A, ...): ``wrk`` (the load generator; Debian
   and Ubuntu: ``apt-get install wrk``, macOS: ``brew install wrk``) on keep-alive connections for
   ``--seconds`` per workload: ``rtc``, a new uid per request on ``/rtc/demo/publisher/uid/{uid}/``, and
   ``mix``, every token route in the proportions of step 1. Without wrk (or with ``--client python``)
   this script's client makes the load, at a lower ceiling.

With ``--jwt ALG``, user authorization is on in the servers started here and every request carries a
JWT for its user (signed before the run, jwt_load.py): in the checked mix each request has its own, and
the ``rtc`` load cycles through ``--jwt-users`` users (uids 1..N), each with its JWT, as clients that
keep theirs (the server remembers a JWT that passed for up to a minute; ``--jwt-users`` above the
requests a round sends makes every JWT new to it, the worst case). ``mix`` is not loaded with JWTs.

Per round it measures requests/s, latency (p50, p99), the server's CPU time per request (its
processes in /proc over the measured window, workers included) and how many cores the other processes
of the machine used meanwhile; it prints each round and the median per server and workload, and
exits 1 if an answer was wrong or a load request failed.

    python benchmarks/server_load.py                                 # this checkout's server
    python benchmarks/server_load.py --baseline c8dc808              # ... against that revision's, in one run
    python benchmarks/server_load.py --workers 2 --no-access-log
    python benchmarks/server_load.py --jwt ES256 --workload rtc      # user authorization on (jwt_load.py)
    python benchmarks/server_load.py --url http://127.0.0.1:8080 --app-certificate ...  # a running server
    python benchmarks/server_load.py --plot "1 worker, access log on"   # a row of the docs' chart (charts.py)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Optional
from urllib.parse import urlsplit

from agora_token import AccessToken2
from agora_token.services import ChatPrivilege, RtcPrivilege, RtmPrivilege, ServiceChat, ServiceRtc, ServiceRtm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine_load import busy_seconds  # noqa: E402

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


# --------------------------------------------------------------------------------------------------
# The servers

SERVE = (
    "import argparse, sys; from agora_token.server import add_serve_arguments, serve; "
    "p = argparse.ArgumentParser(); add_serve_arguments(p); sys.exit(serve(p.parse_args(sys.argv[1:])))"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@dataclass
class Server:
    """A server under test: one started here (``proc``, its log in a file), or one already running (``--url``)."""

    name: str
    url: str
    proc: Optional[subprocess.Popen[bytes]] = None
    log: Optional[IO[bytes]] = None
    backend: str = "?"

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def cpu_seconds(self) -> Optional[float]:
        """The CPU time its processes have used so far (None for a server not started here)."""
        return None if self.proc is None else tree_cpu_seconds(self.proc.pid)

    def stop(self) -> int:
        """Stop it (SIGTERM: a graceful shutdown) and return how many lines it logged."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.log is None:
            return 0
        self.log.seek(0)
        lines = self.log.read().count(b"\n")
        self.log.close()
        self.log = None
        return lines


def start_server(name: str, python: str, workers: int, access_log: bool,
                 extra_env: Optional[dict[str, str]] = None) -> Server:  # fmt: skip
    """``agora-token serve`` of ``python``'s agora_token on a free loopback port; its log goes to a file."""
    port = _free_port()
    env = dict(os.environ, APP_ID=APP_ID, APP_CERTIFICATE=APP_CERTIFICATE, **(extra_env or {}))
    if python != sys.executable:
        env.pop("PYTHONPATH", None)  # another installation: nothing of this one may shadow it
    argv = ["--port", str(port), "--workers", str(workers), "--log-level", "info"]
    if not access_log:
        argv.append("--no-access-log")
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([python, "-c", SERVE, *argv], env=env, stderr=log)
    server = Server(name, f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=1) as answer:
                server.backend = json.loads(answer.read()).get("backend", "?")
                return server
        except OSError:
            time.sleep(0.05)
    log.seek(0)
    said = log.read().decode(errors="replace")[-2000:]
    server.stop()
    raise SystemExit(f"the server {name} did not start:\n{said}")


# --------------------------------------------------------------------------------------------------
# The load: wrk, or this script's client

#: Lua for wrk, shared by the workloads. Each run counts its ids from ``BASE`` (each wrk thread from its own
#: start), so no uid or user is asked for twice in a benchmark; done() prints one line for this script.
_LUA_COMMON = """
local threads = 0
function setup(thread)
  thread:set("i", BASE + threads * 100000000)
  threads = threads + 1
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-RESULT %d %d %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(99)), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""
#: What each workload sends: ``rtc`` is the issue's measure, ``mix`` the proportions of ``make_asks``.
WORKLOADS = {
    "rtc": """
function request()
  i = i + 1
  return wrk.format("GET", "/rtc/demo/publisher/uid/" .. i .. "/")
end
""",
    "mix": """
local roles = {[0] = "subscriber", [1] = "publisher"}
local json = {["Content-Type"] = "application/json"}
function request()
  i = i + 1
  local expiry = 600 + i % 3000
  local channel = "room-" .. (i % 97)
  local role = roles[i % 2]
  local kind = i % 6
  local query = "/?expiry=" .. expiry
  if kind == 0 then
    return wrk.format("GET", "/rtc/" .. channel .. "/" .. role .. "/uid/" .. i .. query)
  elseif kind == 1 then
    return wrk.format("GET", "/rtc/" .. channel .. "/" .. role .. "/userAccount/user-" .. i .. query)
  elseif kind == 2 then
    return wrk.format("GET", "/rtm/user-" .. i .. query)
  elseif kind == 3 then
    return wrk.format("GET", "/rte/" .. channel .. "/" .. role .. "/uid/" .. i .. "/rtm-" .. i .. query)
  elseif kind == 4 then
    if i % 4 == 0 then
      return wrk.format("GET", "/chat/app" .. query)
    end
    return wrk.format("GET", "/chat/account/chat-" .. i .. query)
  end
  local body = string.format('{"tokenType":"rtc","channel":"%s","role":"%s","uid":"%d","expire":%d}',
                             channel, role, i, expiry)
  return wrk.format("POST", "/getToken", json, body)
end
""",
}
#: The ``rtc`` workload with user authorization: uid ``1 + i % #JWTS``, with that user's JWT (``JWTS``, set
#: before this script).
RTC_JWT = """
function request()
  i = i + 1
  local user = 1 + i % #JWTS
  return wrk.format("GET", "/rtc/demo/publisher/uid/" .. user .. "/", {["Authorization"] = "Bearer " .. JWTS[user]})
end
"""
WRK_MISSING = "wrk is not installed (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)"


@dataclass
class Load:
    """What one load run measured, as wrk or this script's client saw it."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int  # answers other than 2xx/3xx, and connection errors


def run_wrk(server: Server, workload: str, base: int, args: argparse.Namespace) -> Load:
    """One wrk run of ``workload`` against ``server``, ids counted from ``base``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if args.jwts:  # the rtc workload, with a JWT per user (main() allows no other with --jwt)
            script.write("JWTS = {" + ",".join(f'"{jwt}"' for jwt in args.jwts) + "}\n")
            script.write(f"BASE = {base}\n" + _LUA_COMMON + RTC_JWT)
        else:
            script.write(f"BASE = {base}\n" + _LUA_COMMON + WORKLOADS[workload])
    try:
        done = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds:g}s", "--timeout", "10s",
             "-s", script.name, server.url],
            capture_output=True, text=True, timeout=args.seconds + 60,
        )  # fmt: skip
    finally:
        os.unlink(script.name)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK-RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    requests, duration_us, p50, p99, _, *errors = (int(x) for x in line.split()[1:])
    return Load(requests, duration_us / 1e6, p50 / 1000, p99 / 1000, sum(errors))


def rtc_asks(start: int, count: int, jwts: Optional[list[str]] = None) -> list[Ask]:
    """The ``rtc`` workload for this script's client: a new uid per request, or with ``jwts``, the uid
    ``1 + i % len(jwts)`` with its JWT (as wrk sends them)."""
    asks = []
    for i in range(start, start + count):
        uid = 1 + i % len(jwts) if jwts else i
        headers = f"Authorization: Bearer {jwts[uid - 1]}\r\n".encode() if jwts else b""
        asks.append(Ask("GET", f"/rtc/demo/publisher/uid/{uid}/", b"", ("rtcToken",),
                        (("rtc", ("demo", str(uid), "publisher")),), 3600, str(uid), headers))  # fmt: skip
    return asks


def sign_jwts(alg: str, directory: str) -> tuple[dict[str, str], Callable[[str], str]]:
    """One key for ``alg`` (jwt_load.py): the servers' environment for it, and a signer of a JWT for a user."""
    import jwt  # PyJWT, as the server's [server] extra has it
    from jwt_load import claims, make_key, server_env  # beside this file

    key, jwk = make_key(alg)
    headers = {"kid": "bench"} if jwk is not None else None

    def sign(user: str) -> str:
        # The mix's channels (room-*) and the rtc workload's.
        return jwt.encode({**claims(user or "app"), "agora_channels": ["room-*", "demo"]}, key, algorithm=alg,
                          headers=headers)  # fmt: skip

    return server_env(alg, jwk, directory), sign


def run_client(server: Server, workload: str, base: int, args: argparse.Namespace) -> Load:
    """One run of this script's own client (when wrk is missing or not wanted)."""
    count = int(args.seconds * 40_000)  # above what one Python client sends in that time
    asks = rtc_asks(base + 1, count, args.jwts) if workload == "rtc" else make_asks(count)
    results, seconds = asyncio.run(drive(*server.address, asks, args.connections, args.seconds))
    done = [r for r in results if r is not None]
    latencies = sorted(r[2] for r in done)
    if not latencies:
        return Load(0, seconds, 0.0, 0.0, 0)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    failed = sum(1 for status, _, _ in done if not 200 <= status < 400)
    return Load(len(done), seconds, statistics.median(latencies) * 1000, p99 * 1000, failed)


@dataclass
class Sample:
    """One measured window: the load's numbers, the server's CPU and what the rest of the machine did."""

    server: str
    workload: str
    load: Load
    server_cpu_us: Optional[float]  # per request
    others_cores: float  # CPU the machine's other processes used meanwhile, in cores

    @property
    def rate(self) -> float:
        return self.load.requests / self.load.seconds if self.load.seconds else 0.0


def measure(server: Server, workload: str, base: int, args: argparse.Namespace) -> Sample:
    """Load ``server`` with ``workload`` once; its CPU and the machine's busy time over the same window."""
    busy0, cpu0, own0, wall0 = busy_seconds(), server.cpu_seconds(), os.times(), time.perf_counter()
    load = (run_wrk if args.client == "wrk" else run_client)(server, workload, base, args)
    wall = time.perf_counter() - wall0
    own1, cpu1, busy1 = os.times(), server.cpu_seconds(), busy_seconds()
    # This process and its children (wrk): the client side of the load.
    client = sum(own1[:4]) - sum(own0[:4])
    server_cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    others = max(0.0, busy1 - busy0 - (server_cpu or 0.0) - client) / wall if busy1 else 0.0
    per_request = None if server_cpu is None or not load.requests else server_cpu / load.requests * 1e6
    return Sample(server.name, workload, load, per_request, others)


def verify(server: Server, count: int, args: argparse.Namespace) -> tuple[int, list[str]]:
    """Send ``count`` requests of every token route and check each answer; (answers, what was wrong)."""
    asks = make_asks(count, one_user=bool(args.jwt))
    if args.jwt:  # a JWT of its own for each request's user
        for ask in asks:
            ask.headers = f"Authorization: Bearer {args.sign(ask.user)}\r\n".encode()
    results, _ = asyncio.run(drive(*server.address, asks, min(args.connections, 32), 120.0))
    done = [(ask, r) for ask, r in zip(asks, results) if r is not None]
    failures = [f"{ask.method} {ask.path}: {error}" for ask, (status, body, _) in done
                if (error := check(ask, status, body, args.app_certificate, args.app_id))]  # fmt: skip
    if len(done) < len(asks):
        failures.append(f"{len(asks) - len(done)} requests got no answer")
    return len(done), failures


# --------------------------------------------------------------------------------------------------
# The run


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(samples: list[Sample], names: list[str], workloads: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (server, workload): the medians over the rounds."""
    table = {}
    for name in names:
        for workload in workloads:
            mine = [s for s in samples if s.server == name and s.workload == workload]
            cpu = [s.server_cpu_us for s in mine if s.server_cpu_us is not None]
            table[name, workload] = {
                "requests_per_s": _median([s.rate for s in mine]),
                "p50_ms": _median([s.load.p50_ms for s in mine]),
                "p99_ms": _median([s.load.p99_ms for s in mine]),
                "server_cpu_us": _median(cpu) if cpu else None,
                "others_cores": _median([s.others_cores for s in mine]),
                "requests": sum(s.load.requests for s in mine),
            }
    return table


def _row(name: str, workload: str, rate: float, p50: float, p99: float, cpu: Optional[float], others: float) -> str:
    shown = "-" if cpu is None else f"{cpu:.1f} µs"
    return (f"| {name} | {workload} | {rate:,.0f} | {p50:.2f} ms | {p99:.2f} ms | {shown} | "
            f"{others:.2f} |")  # fmt: skip


def _revision() -> str:
    """This checkout's commit, with "+" when its files differ from it."""
    try:
        head = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(HERE), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()  # fmt: skip
        return head + ("+" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def main(argv: Optional[list[str]] = None) -> int:
    """Run the benchmark; print every round, the medians, and the ratios to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="load per round and workload (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="load rounds per server (default: %(default)s)")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default: %(default)s)")
    parser.add_argument(
        "--workload", choices=[*WORKLOADS, "both"], default="both",
        help="rtc: a new uid per request on one route; mix: every token route (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--verify", type=int, default=3000, help="checked requests per server (default: %(default)s)")
    parser.add_argument("--client", choices=("wrk", "python"), default=None,
                        help="the load generator (default: wrk when installed, else this script's client)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default: %(default)s)")
    parser.add_argument("--no-access-log", action="store_true", help="start the servers without their access log")
    parser.add_argument(
        "--baseline", metavar="REV", help="also start the server of this revision (benchmarks/baseline.py), interleaved"
    )
    parser.add_argument(
        "--jwt",
        choices=("HS256", "RS256", "ES256", "EdDSA"),
        help="turn user authorization on and send each request with a JWT signed with ALG for its user",
    )
    parser.add_argument(
        "--jwt-users",
        type=int,
        default=1000,
        metavar="N",
        help="with --jwt: the rtc load's users, each with one JWT, cycled (default: %(default)s)",
    )
    parser.add_argument("--url", help="load a running server instead (http://127.0.0.1:PORT): no CPU figures")
    parser.add_argument("--plot", metavar="LABEL", help="also add this run's rtc rows to the docs' chart and table")
    parser.add_argument("--app-id", default=APP_ID)
    parser.add_argument("--app-certificate", default=APP_CERTIFICATE)
    args = parser.parse_args(argv)
    if args.client is None:
        args.client = "wrk" if shutil.which("wrk") else "python"
        if args.client == "python":
            print(f"{WRK_MISSING}: the load comes from this script's client, which saturates sooner", file=sys.stderr)
    elif args.client == "wrk" and not shutil.which("wrk"):
        raise SystemExit(WRK_MISSING)
    if args.url and args.baseline:
        raise SystemExit("--url loads a running server: drop --baseline")
    try:
        import uvloop

        uvloop.install()  # this script's client must not be the bottleneck; plain asyncio works too
    except ImportError:
        pass
    workloads = list(WORKLOADS) if args.workload == "both" else [args.workload]
    args.jwts, args.sign, auth_env = None, None, {}
    if args.jwt:
        if args.url:
            raise SystemExit("--jwt starts its own servers: drop --url")
        if args.workload != "rtc":
            raise SystemExit("--jwt loads the rtc workload only: add --workload rtc")
        if args.jwt_users < 1:
            raise SystemExit("--jwt-users must be at least 1")
        seconds = time.perf_counter()
        auth_env, args.sign = sign_jwts(args.jwt, tempfile.mkdtemp(prefix="agora-load-jwt-"))
        args.jwts = [args.sign(str(uid)) for uid in range(1, args.jwt_users + 1)]
        print(f"signed {args.jwt_users} JWTs ({args.jwt}) in {time.perf_counter() - seconds:.1f} s, before the run")

    servers: list[Server] = []
    try:
        if args.url:
            if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
                raise SystemExit("this load test only runs on loopback")
            servers.append(Server(f"--url {args.url}", args.url))
        else:
            servers.append(start_server(f"this checkout ({_revision()})", sys.executable, args.workers,
                                        not args.no_access_log, auth_env))  # fmt: skip
            if args.baseline:
                from baseline import python_of  # beside this file

                python = str(python_of(args.baseline))
                # A revision before user authorization ignores the variables: it serves without it.
                servers.append(start_server(f"baseline {args.baseline}", python, args.workers, not args.no_access_log,
                                            auth_env))  # fmt: skip
        failed = False
        for server in servers:
            answers, failures = verify(server, args.verify, args)
            print(f"{server.name}: {answers - len(failures)} of {answers} answers are valid tokens for their request")
            for failure in failures[:5]:
                print(f"  FAIL {failure}")
            if server is servers[0]:
                failed |= bool(failures)
            elif failures:  # checked against today's answers: an older server may answer otherwise, as it did then
                print("  (the baseline answers as its revision did; it is measured, not judged)")
            run_client(server, "rtc", 4_000_000_000, argparse.Namespace(**{**vars(args), "seconds": 1.0}))  # warm-up
        print(f"load: {args.client}, {args.connections} connections"
              + (f", {args.threads} thread(s)" if args.client == "wrk" else "")
              + f", {args.seconds:g} s per round and workload, {args.rounds} rounds; servers: {args.workers} "
              f"worker(s), access log {'off' if args.no_access_log else 'on'}, {servers[0].backend} kernel"
              + (f", user authorization on ({args.jwt}, {args.jwt_users} users)" if args.jwt else "")
              + "; "
              f"this machine has {os.cpu_count()} CPUs")  # fmt: skip
        print("\n| server | workload | req/s | p50 | p99 | server CPU per request | other processes (cores) |")
        print("|---|---|---:|---:|---:|---:|---:|")
        samples: list[Sample] = []
        run = 0
        for round_index in range(args.rounds):
            order = servers if round_index % 2 == 0 else servers[::-1]
            for server in order:
                for workload in workloads:
                    run += 1
                    sample = measure(server, workload, run * 5_000_000, args)
                    samples.append(sample)
                    failed |= sample.load.failed > 0
                    print(_row(f"{server.name}, round {round_index + 1}", workload, sample.rate, sample.load.p50_ms,
                               sample.load.p99_ms, sample.server_cpu_us, sample.others_cores), flush=True)  # fmt: skip
                    if sample.load.failed:
                        print(f"  FAIL {sample.load.failed} of {sample.load.requests} load requests failed")
    finally:
        lines = {server.name: server.stop() for server in servers}

    names = [server.name for server in servers]
    table = summarize(samples, names, workloads)
    print("\nmedians over the rounds:\n")
    print("| server | workload | req/s | p50 | p99 | server CPU per request | other processes (cores) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (name, workload), m in table.items():
        print(_row(name, workload, m["requests_per_s"], m["p50_ms"], m["p99_ms"], m["server_cpu_us"],
                   m["others_cores"]))  # fmt: skip
    print("\nserver log lines: " + ", ".join(f"{name} {count}" for name, count in lines.items()))
    if len(servers) == 2:
        ours, base = names
        for workload in workloads:
            a, b = table[ours, workload], table[base, workload]
            cpu = ("" if a["server_cpu_us"] is None or b["server_cpu_us"] is None
                   else f", server CPU per request {a['server_cpu_us'] / b['server_cpu_us']:.2f}x")  # fmt: skip
            print(f"{workload}: this checkout / {base}: req/s {a['requests_per_s'] / b['requests_per_s']:.2f}x{cpu}")
    if args.plot and not failed:
        import charts  # benchmarks/charts.py (matplotlib): one row of docs/assets/benchmarks/server.*

        for server in servers:
            m = table[server.name, workloads[0]]
            label = args.plot if server is servers[0] else f"{args.plot}, {server.name}"
            numbers = {k: m[k] for k in ("requests_per_s", "p50_ms", "p99_ms", "server_cpu_us", "requests")}
            row = {"label": label, "workload": workloads[0], "client": args.client, "connections": args.connections,
                   **numbers}  # fmt: skip
            for path in charts.server(row):
                print(f"wrote {path}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
