"""Connection hygiene for uvicorn: subclasses of its HTTP protocols (httptools and h11).

uvicorn times a connection out only between requests (its keep-alive timeout), never before the
first complete request, and it buffers a request head of any size (httptools). These subclasses add,
per connection:

* a deadline for receiving a whole request, head and body (``request_timeout``): a connection that
  sends nothing, or dribbles a header line every few seconds, is closed (408 if nothing was sent);
* a cap on the request head (``max_header_bytes``): beyond it, a JSON 431 and the connection closed;
* a cap on open connections per process (``max_connections``, kept below the open-file limit): a new
  connection first evicts the oldest one still waiting for a request head (idle or slow clients are
  the cheap ones to shed); when every connection is busy, the new one gets a JSON 503 at once;
* JSON answers, in the project's words, instead of uvicorn's plain-text 400.

The request itself, once its head is complete, is uvicorn's as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Optional

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import Limits, effective_max_connections
from .errors import error_json
from .metrics import CONNECTIONS_REFUSED, REFUSAL_REASONS

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional (uvicorn without [standard]): h11 then serves
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

log = logging.getLogger("agora_token.server")

#: Per reason a connection was ended here, the counter child (labels() once, not per refusal).
REFUSED = {reason: CONNECTIONS_REFUSED.labels(reason) for reason in REFUSAL_REASONS}


def _canned(status: int, reason: str, message: str, extra: bytes = b"") -> bytes:
    body = error_json(status, message)
    return (
        (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "cache-control: no-store\r\nconnection: close\r\n"
        ).encode()
        + extra
        + b"\r\n"
        + body
    )


BUSY = _canned(503, "Service Unavailable", "server busy: too many open connections, retry shortly",
               b"retry-after: 1\r\n")  # fmt: skip
TIMEOUT = _canned(408, "Request Timeout", "request timeout: the request was not received in time")
TOO_LARGE = _canned(431, "Request Header Fields Too Large", "the request head is too large")
MALFORMED = _canned(400, "Bad Request", "malformed HTTP request")


#: How often the deadlines are checked: a deadline is met to within this many seconds.
SWEEP_SECONDS = 0.25


class _Registry:
    """Per uvicorn server: the connections waiting for a request head, and those with a running deadline.

    One periodic sweep checks the deadlines (in arming order, which is expiry order, as every connection
    of a server has the same timeout) instead of a timer per request: arming a timer and cancelling it
    costs more than the rest of the hygiene together on the hot path.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: OrderedDict[Any, None] = OrderedDict()
        self.armed: OrderedDict[Any, float] = OrderedDict()
        self.sweeper: Optional[asyncio.TimerHandle] = None

    def arm(self, protocol: Any) -> None:
        if protocol not in self.armed:
            self.armed[protocol] = self.loop.time() + protocol._limits.request_timeout
            if self.sweeper is None:
                self.sweeper = self.loop.call_later(SWEEP_SECONDS, self.sweep)

    def sweep(self) -> None:
        self.sweeper = None
        now = self.loop.time()
        while self.armed:
            protocol, due = next(iter(self.armed.items()))
            if due > now:
                break
            del self.armed[protocol]
            protocol._deadline_passed()
        if self.armed:
            self.sweeper = self.loop.call_later(SWEEP_SECONDS, self.sweep)


def _registry(server_state: Any, loop: asyncio.AbstractEventLoop) -> _Registry:
    """The registry of ``server_state``'s server (made on its first connection)."""
    registry = getattr(server_state, "_agora_registry", None)
    if registry is None:
        registry = server_state._agora_registry = _Registry(loop)
    return registry


class GuardMixin:
    """The hygiene shared by both protocols; relies on uvicorn's attribute names (``transport``, ``cycle``)."""

    transport: asyncio.Transport
    cycle: Any
    connections: Any
    server_state: Any
    loop: asyncio.AbstractEventLoop
    timeout_keep_alive_task: Any

    # -- the protocol's lifecycle, around uvicorn's (the protocol class comes after this mixin) ---

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard_init()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._guard_connection_made()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        super().connection_lost(exc)  # type: ignore[misc]
        self._guard_connection_lost()

    def _guard_init(self) -> None:
        config = self.config  # type: ignore[attr-defined]
        limits: Limits = getattr(config, "agora_limits", None) or Limits.from_env()
        self._limits = limits
        self._max_connections = effective_max_connections(limits.max_connections)
        self._head_bytes = 0
        self._waiting = False
        self._registry = _registry(self.server_state, self.loop)
        self._waiting_set = self._registry.waiting
        self._armed = self._registry.armed

    # -- state ---------------------------------------------------------------------------------

    def _start_waiting(self) -> None:
        self._waiting = True
        self._head_bytes = 0
        self._waiting_set.pop(self, None)
        self._waiting_set[self] = None

    def _stop_waiting(self) -> None:
        self._waiting = False
        self._waiting_set.pop(self, None)

    def _arm_deadline(self) -> None:
        if self._limits.request_timeout > 0:
            self._registry.arm(self)

    def _disarm_deadline(self) -> None:
        self._armed.pop(self, None)

    def _refuse(self, answer: bytes, reason: str) -> None:
        REFUSED[reason].inc()
        self._stop_waiting()
        self._disarm_deadline()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()

    def _deadline_passed(self) -> None:
        if self.transport.is_closing():
            return
        if self._waiting:
            self._refuse(TIMEOUT, "request_timeout")
        elif self.cycle is not None and self.cycle.more_body and not self.cycle.response_started:
            # Mid-body: the app waits in receive(), which wakes only once the connection is lost, as a
            # disconnect; so the 408 written here is the only answer on the wire.
            self._refuse(TIMEOUT, "request_timeout")
        # Otherwise the whole request is in and the app is answering it: not ours to cut.

    def _evict_oldest_waiting(self) -> bool:
        while self._waiting_set:
            oldest, _ = self._waiting_set.popitem(last=False)
            if oldest is not self and not oldest.transport.is_closing():
                oldest._refuse(BUSY, "too_many_connections")
                return True
        return False

    # -- uvicorn hooks -------------------------------------------------------------------------

    def _guard_connection_made(self) -> bool:
        """After uvicorn's connection_made; False if this connection was refused."""
        if len(self.connections) > self._max_connections and not self._evict_oldest_waiting():
            self._refuse(BUSY, "too_many_connections")
            return False
        self._start_waiting()
        self._arm_deadline()
        return True

    def _guard_before_data(self) -> None:
        if self._waiting:
            # The first byte of a request (after keep-alive idling) starts its deadline.
            self._arm_deadline()

    def _guard_after_data(self, size: int) -> None:
        if self.transport.is_closing():
            return
        if self._waiting:
            self._head_bytes += size
            if self._head_bytes > self._limits.max_header_bytes:
                self._refuse(TOO_LARGE, "header_too_large")
        elif self.cycle is not None and not self.cycle.more_body:
            self._disarm_deadline()

    def _guard_head_complete(self) -> None:
        self._stop_waiting()

    def _guard_response_complete(self) -> None:
        # uvicorn armed its keep-alive timer only if no pipelined request started: the connection is idle.
        if not self.transport.is_closing() and self.timeout_keep_alive_task is not None:
            self._disarm_deadline()
            self._start_waiting()

    def _guard_connection_lost(self) -> None:
        self._stop_waiting()
        self._disarm_deadline()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to an unparseable request, as JSON in our words."""
        self._refuse(MALFORMED, "malformed_request")


class GuardedH11Protocol(GuardMixin, H11Protocol):
    """uvicorn's h11 protocol with the request deadline, head cap and connection cap."""

    def data_received(self, data: bytes) -> None:
        self._guard_before_data()
        before = self.cycle
        super().data_received(data)
        if self.cycle is not before:  # h11 produced a Request event: the head is complete
            self._guard_head_complete()
        self._guard_after_data(len(data))

    def on_response_complete(self) -> None:
        before = self.cycle
        super().on_response_complete()
        if self.cycle is not before:  # a pipelined request started
            self._guard_head_complete()
        else:
            self._guard_response_complete()


PROTOCOLS: dict[str, type[asyncio.Protocol]] = {"h11": GuardedH11Protocol}

if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(GuardMixin, HttpToolsProtocol):
        """uvicorn's httptools protocol with the request deadline, head cap and connection cap."""

        def data_received(self, data: bytes) -> None:
            self._guard_before_data()
            super().data_received(data)
            self._guard_after_data(len(data))

        def on_headers_complete(self) -> None:
            self._guard_head_complete()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._guard_response_complete()

    PROTOCOLS["httptools"] = GuardedHttpToolsProtocol


#: The uvicorn releases (major, minor) these subclasses were tested on, oldest and newest
#: (tools/deps.sh tests both ends): they rely on its protocols' internals (``cycle``,
#: ``timeout_keep_alive_task``, ``send_400_response``...), which a minor release may change.
UVICORN_TESTED = ((0, 30), (0, 55))


def check_uvicorn(version: str) -> None:
    """Refuse a uvicorn outside ``UVICORN_TESTED`` (``ValueError`` saying which range is supported)."""
    try:
        found = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        found = ()
    oldest, newest = UVICORN_TESTED
    if len(found) != 2 or not oldest <= found <= newest:
        raise ValueError(
            f"uvicorn {version} is not supported: the server's connection guards are tested on uvicorn "
            f"{oldest[0]}.{oldest[1]} to {newest[0]}.{newest[1]}.x (pip install '.[server]' picks one)"
        )


def protocol_class(http: str = "auto") -> type[asyncio.Protocol]:
    """The guarded protocol for ``http`` ("auto": httptools when installed, else h11); ``ValueError``
    when that parser is not installed or uvicorn is a release the guards were not tested on."""
    check_uvicorn(uvicorn.__version__)
    if http == "auto":
        http = "httptools" if "httptools" in PROTOCOLS else "h11"
    if http not in PROTOCOLS:
        raise ValueError(f"--http {http} is not available here (install httptools, or use --http h11)")
    return PROTOCOLS[http]
