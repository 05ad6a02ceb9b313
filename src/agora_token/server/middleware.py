"""Pure ASGI middleware (no per-request Request objects, so they stay cheap on the hot path).

``Observe`` (outermost): metrics, the access log, and a JSON 500 for anything unexpected (a client
that goes away mid-request is not unexpected: it is counted as 499, logged without a traceback).
``KeepEncodedSlashes``: the router sees an encoded ``/`` still encoded, so that it stays inside its
segment (which then gets a 400 naming it) instead of splitting the path into other segments.
``Gate``: CORS (other origins get 403, as agora-token-service), the optional bearer API key, the
end user's JWT when user authorization is on (401 without a valid one; its claims go on to the routes,
which apply the policy), and ``Cache-Control: no-store`` (a token must not sit in a shared cache).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Callable, Optional
from urllib.parse import unquote

from starlette.requests import ClientDisconnect

from .config import Settings
from .errors import error_body

if TYPE_CHECKING:
    from .bearer import BearerAuth
from .logs import ACCESS_LOGGER, ERROR_LOGGER, RedactSecrets, escape, log_directly
from .metrics import CLIENT_CLOSED, Metrics
from .request import header_value

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

#: Reachable without the API key: liveness probes and the API description (and /metrics, if the
#: operator says so: ``--metrics-public``).
PUBLIC_PATHS = frozenset({"/ping", "/healthz", "/openapi.json"})
METRICS_PATH = "/metrics"
#: A "/" encoded in a path: kept encoded by ``KeepEncodedSlashes`` so that the routes refuse it, naming the segment.
ENCODED_SLASH = re.compile(r"%2[Ff]")
ALLOW_METHODS = b"GET, POST, OPTIONS"
ALLOW_HEADERS = b"Authorization, Content-Type"
#: Where the Gate leaves who the caller is, for the routes: ``API_KEY_CALLER``, or the JWT's claims (a dict).
CALLER = "agora_token.caller"
API_KEY_CALLER = "api-key"
REALM = b'Bearer realm="agora-token"'
ACCESS_FORMAT = '%s - "%s %s HTTP/%s" %d %.2fms'
access_log = logging.getLogger(ACCESS_LOGGER)
error_log = logging.getLogger(ERROR_LOGGER)


async def send_json(send: Send, status: int, body: dict[str, Any], headers: Optional[Headers] = None) -> None:
    """Send a whole JSON response."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": payload})


class Gate:
    """CORS, API key, the end user's JWT and no-store headers in front of every HTTP route.

    Who may call what, in order: a CORS preflight needs nothing; ``/ping``, ``/healthz`` and
    ``/openapi.json`` are open; ``/metrics`` needs the API key when there is one (unless
    ``metrics_public``) and never takes a JWT; any other route takes the API key (a backend: the user
    policy does not apply) or, when user authorization is on, a valid JWT (the routes then apply the
    policy to its claims), and is open when neither is configured.
    """

    def __init__(self, app: ASGIApp, settings: Settings, bearer: Optional[BearerAuth] = None,
                 refused: Optional[Callable[[str], None]] = None) -> None:  # fmt: skip
        self.app = app
        self.any_origin = settings.any_origin
        self.origins = frozenset(o.encode() for o in settings.cors_allow_origins)
        self.api_key = settings.api_key.encode() if settings.api_key else None
        self.public = PUBLIC_PATHS | ({METRICS_PATH} if settings.metrics_public or not settings.api_key else set())
        self.bearer = bearer
        #: Counts a user-authorization refusal by reason (``Metrics.auth_refused``).
        self.refused = refused or (lambda reason: None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = header_value(scope, b"origin")
        extra: Headers = [(b"cache-control", b"no-store")]
        if origin is not None:
            if self.any_origin:
                extra.append((b"access-control-allow-origin", b"*"))
            elif origin.rstrip(b"/") in self.origins:
                extra += [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
            else:
                # A browser would block the answer anyway; refusing outright also spares building a token.
                await send_json(send, 403, error_body(403, "origin not allowed"), [(b"vary", b"Origin")])
                return
            if scope["method"] == "OPTIONS" and header_value(scope, b"access-control-request-method") is not None:
                # A preflight carries no credentials, so it is answered before the key check.
                extra += [
                    (b"access-control-allow-methods", ALLOW_METHODS),
                    (b"access-control-allow-headers", ALLOW_HEADERS),
                    (b"access-control-max-age", b"600"),
                ]
                await send({"type": "http.response.start", "status": 204, "headers": extra})
                await send({"type": "http.response.body", "body": b""})
                return
        if (self.api_key is not None or self.bearer is not None) and not self._public(scope["path"]):
            if not await self._admit(scope, send, extra):
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", ())) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _admit(self, scope: Scope, send: Send, extra: Headers) -> bool:
        """Whether the caller may go on (noted in ``scope[CALLER]``); if not, the 401 (or 503) is sent here."""
        if self.api_key is not None and self._authorized(scope):
            scope[CALLER] = API_KEY_CALLER
            return True
        path = scope["path"]
        if self.bearer is None or path == METRICS_PATH or path == METRICS_PATH + "/":
            await send_json(
                send, 401, error_body(401, "missing or wrong API key: send 'Authorization: Bearer <key>'"),
                extra + [(b"www-authenticate", REALM)],
            )  # fmt: skip
            return False
        from .bearer import Unauthorized  # imported once authorization is on (PyJWT)
        from .keys import KeysUnavailable

        header = header_value(scope, b"authorization")
        try:
            scope[CALLER] = await self.bearer.claims(header)
            return True
        except Unauthorized as exc:
            self.refused(exc.reason)
            # RFC 6750, 3.1: no error code when the request had no credentials at all.
            challenge = REALM if exc.reason == "missing" else REALM + b', error="invalid_token"'
            await send_json(send, 401, error_body(401, exc.message), extra + [(b"www-authenticate", challenge)])
        except KeysUnavailable:
            self.refused("keys_unavailable")
            await send_json(send, 503, error_body(503, "the identity provider's keys are not available yet: retry "
                                                       "shortly"), extra + [(b"retry-after", b"5")])  # fmt: skip
        except Exception:  # a header no rule foresaw is still the client's: a 401, and a log line to look into
            error_log.exception("checking the Authorization header failed")
            self.refused("malformed")
            await send_json(send, 401, error_body(401, "the JWT cannot be read"),
                            extra + [(b"www-authenticate", REALM + b', error="invalid_token"')])  # fmt: skip
        return False

    def _public(self, path: str) -> bool:
        # Both spellings of a route are served: "/metrics" and "/metrics/".
        return path in self.public or (path.endswith("/") and path[:-1] in self.public)

    def _authorized(self, scope: Scope) -> bool:
        value = header_value(scope, b"authorization") or b""
        scheme, _, key = value.partition(b" ")
        assert self.api_key is not None
        # compare_digest: the time taken must not tell how much of the key was right.
        return scheme.lower() == b"bearer" and hmac.compare_digest(key.strip(), self.api_key)


def request_target(scope: Scope) -> str:
    """The request target as the client sent it (still percent-encoded), for a log line."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else scope["path"]
    query = scope.get("query_string", b"")
    return path + ("?" + query.decode("latin-1") if query else "")


class KeepEncodedSlashes:
    """Routes a path whose raw form has an encoded ``/`` with that ``%2F`` kept in its segment.

    uvicorn decodes ``/rtc/room%2Fx/...`` to ``/rtc/room/x/...``, a path with one segment more, which
    matches no route (a 404) or the wrong one. With the ``%2F`` kept, the request reaches its route,
    which refuses the segment by name (``routes.path_segments``). The scope is changed in place, so
    the middleware above sees the route the router found.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        if scope["type"] == "http" and isinstance(raw, bytes) and b"%" in raw:
            text = raw.decode("latin-1")
            if ENCODED_SLASH.search(text):
                scope["path"] = "%2F".join(unquote(part) for part in ENCODED_SLASH.split(text))
        await self.app(scope, receive, send)


class Observe:
    """Counts every request, writes one access-log line, and turns a crash into a JSON 500."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Callable[[Scope], str], log_access: bool,
                 guard: Optional[RedactSecrets] = None, json_fields: bool = False) -> None:  # fmt: skip
        self.app = app
        self.metrics = metrics
        #: The route template a finished request is counted under (``application.route_labels``).
        self.routes = routes
        self.log_access = log_access
        self.guard = guard or RedactSecrets(())
        # The fields as record attributes, for a JSON formatter; a text line needs only the arguments.
        self.json_fields = json_fields

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except ClientDisconnect:
            # The client left before its request was read: nobody to answer, nothing broken here.
            if status == 0:
                status = CLIENT_CLOSED
        except Exception:
            # Logged through the redacting filter; the client learns nothing of the cause.
            error_log.exception("unhandled error on %s %s", escape(scope["method"]), escape(request_target(scope)))
            if status == 0:
                status = 500
                await send_json(send, 500, error_body(500, "internal server error"))
        finally:
            elapsed = time.perf_counter() - start
            # Route templates, not raw paths: channel names would make the label set unbounded.
            route = self.routes(scope)
            self.metrics.observe(scope["method"], route, status or 500, elapsed)
            if self.log_access and access_log.isEnabledFor(logging.INFO):
                self._log(scope, status or 500, elapsed)

    def _log(self, scope: Scope, status: int, elapsed: float) -> None:
        client = scope.get("client")
        address = f"{client[0]}:{client[1]}" if client else "-"
        # Escaped here: no forged lines, no terminal escapes. (The HTTP version comes from the parser,
        # which accepts only digits there.)
        method, target = escape(scope["method"]), escape(request_target(scope))
        version = scope.get("http_version", "1.1")
        extra = None
        if self.json_fields:
            # The logging filter redacts the message and its arguments, not extra fields: do it here.
            target = self.guard.redact(target)
            extra = {"client": address, "method": method, "target": target, "http_version": version,
                     "status": status, "duration_ms": round(elapsed * 1000, 3)}  # fmt: skip
        args = (address, method, target, version, status, elapsed * 1000)
        if extra is None and log_directly(access_log, logging.INFO, ACCESS_FORMAT % args):
            return  # serve's set-up: the line, redacted, straight to its handler
        # makeRecord + handle is logger.info without findCaller's stack walk: this runs per request.
        # handle() still applies the logger's filters (the redaction) and its handlers.
        access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, ACCESS_FORMAT, args, None,
                                                extra=extra))  # fmt: skip
