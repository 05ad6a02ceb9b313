"""The token routes, answered from a table built when the app is made, without Starlette's per-request work.

Starlette's router tries route regexes one by one, and each request then passes through an
exception layer and gets a ``Request`` and a ``JSONResponse``: for a token, that cost more than the
token. ``TokenRoutes`` sits inside the ``Gate`` (CORS, the API key and the user's JWT apply as before)
and answers a token route itself: the path is split once and looked up by (first segment, number of
segments, trailing slash), the route's endpoint gets a ``request.TokenRequest``, and the answer (the
token, or the 400 or 403 the app's exception handlers would give) is sent as two ASGI messages.
Anything else goes on to Starlette unchanged: the other routes, a method the route does not take (405),
and an app mounted under a root path.

The table has the forms ``application`` gives Starlette: each template as written, with and without
its trailing "/" (then its last parameter may not be empty), a ``{name:segment}`` parameter being any
text without "/", empty included.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .errors import error_body
from .logs import RedactSecrets
from .metrics import Metrics
from .policy import Refused
from .request import Receive, Scope, TokenRequest

Message = dict[str, Any]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
Endpoint = Callable[[TokenRequest], Awaitable[dict[str, str]]]

#: Where ``TokenRoutes`` leaves the template a request is counted under (``application.route_labels``).
ROUTE_LABEL = "agora_token.route"
#: RFC 6750, 3.1: the JWT is valid, but does not reach this far.
INSUFFICIENT_SCOPE = b'Bearer realm="agora-token", error="insufficient_scope"'
_JSON_TYPE = (b"content-type", b"application/json")
#: Starlette's JSONResponse rendering (UTF-8, compact), with the encoder made once.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode


def json_bytes(body: object) -> bytes:
    """``body`` as JSONResponse renders it."""
    return _encode(body).encode("utf-8")


Answer = tuple[int, dict[str, Any], Headers]


def error_answer(exc: Exception, guard: RedactSecrets, metrics: Metrics) -> Optional[Answer]:
    """The answer to an exception a token route raised: (status, body, headers), or None if it is not the client's.

    ``policy.Refused`` is a 403 naming the rule (and counted by it); ``ValueError``/``TypeError``, from
    ``agora_token.validation`` and the builders, are the caller's input: a 400 with the message, redacted
    (it never holds the certificate; redacting still guards an echoed input).
    """
    if isinstance(exc, Refused):
        metrics.auth_refused(exc.rule)
        return 403, error_body(403, exc.message), [(b"www-authenticate", INSUFFICIENT_SCOPE)]
    if isinstance(exc, (ValueError, TypeError)):
        return 400, error_body(400, guard.redact(str(exc))), []
    return None


async def send_answer(send: Send, status: int, body: object, headers: Optional[Headers] = None) -> None:
    """A whole JSON answer, headers in JSONResponse's order (the given ones, then length and type)."""
    payload = json_bytes(body)
    head = [*(headers or ()), (b"content-length", str(len(payload)).encode()), _JSON_TYPE]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": payload})


@dataclass(frozen=True)
class Form:
    """One spelling of a token route: its path parts (a literal, or None for a parameter) and what to call."""

    label: str
    parts: tuple[Optional[str], ...]
    #: Per part: whether it may be empty (a ``{name:segment}`` parameter; the last one of a short form may not).
    may_be_empty: tuple[bool, ...]
    names: tuple[str, ...]
    methods: frozenset[str]
    endpoint: Endpoint

    def params(self, parts: list[str]) -> Optional[dict[str, str]]:
        """The parameters if ``parts`` (the path split at "/") is this form, else None."""
        values = []
        for part, want, may_be_empty in zip(parts, self.parts, self.may_be_empty):
            if want is None:
                if not part and not may_be_empty:
                    return None
                values.append(part)
            elif part != want:
                return None
        return dict(zip(self.names, values))


def _parse(template: str) -> tuple[list[Optional[str]], list[bool], list[str]]:
    parts: list[Optional[str]] = []
    may_be_empty, names = [], []
    for part in template.strip("/").split("/"):
        if part.startswith("{") and part.endswith("}"):
            name, _, convertor = part[1:-1].partition(":")
            parts.append(None)
            names.append(name)
            may_be_empty.append(convertor == "segment")
        else:
            parts.append(part)
            may_be_empty.append(True)
    return parts, may_be_empty, names


class RouteTable:
    """The token routes' forms by (first segment, number of segments, trailing slash)."""

    def __init__(self, routes: Iterable[tuple[str, Endpoint, list[str], str]]) -> None:
        """``routes``: (template, endpoint, methods, label), as ``application`` declares them."""
        self.forms: dict[tuple[str, int, bool], list[Form]] = {}
        for template, endpoint, methods, label in routes:
            parts, may_be_empty, names = _parse(template)
            allowed = frozenset(methods) | ({"HEAD"} if "GET" in methods else set())  # as Starlette's Route
            spellings = [(True, may_be_empty), (False, may_be_empty[:-1] + [parts[-1] is not None])]
            for trailing, empty in spellings:
                form = Form(label, tuple(parts), tuple(empty), tuple(names), allowed, endpoint)
                key = (parts[0] or "", len(parts), trailing)
                self.forms.setdefault(key, []).append(form)

    def methods(self) -> list[tuple[str, list[str]]]:
        """(label, the methods it was declared with) of every route (HEAD, which Starlette adds, aside)."""
        found = {(form.label, method) for forms in self.forms.values() for form in forms for method in form.methods}
        return [(label, [method]) for label, method in sorted(found) if method != "HEAD"]

    def match(self, path: str, method: str) -> Optional[tuple[Form, dict[str, str]]]:
        """The form ``path`` is, with its parameters, if that form takes ``method``; else None."""
        trailing = path.endswith("/")
        parts = path[1 : -1 if trailing else None].split("/")
        for form in self.forms.get((parts[0], len(parts), trailing), ()):
            params = form.params(parts)
            if params is not None:
                return (form, params) if method in form.methods else None
        return None


class TokenRoutes:
    """Answers the token routes from a ``RouteTable``; passes every other request on to ``app``."""

    def __init__(self, app: ASGIApp, table: RouteTable, context: Any, guard: RedactSecrets, metrics: Metrics) -> None:
        self.app = app
        self.table = table
        #: ``routes.RouteContext``, given to every endpoint.
        self.context = context
        self.guard = guard
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and not scope.get("root_path"):
            found = self.table.match(scope["path"], scope["method"])
        if found is None:
            await self.app(scope, receive, send)
            return
        form, params = found
        scope[ROUTE_LABEL] = form.label
        try:
            body = await form.endpoint(TokenRequest(scope, receive, params, self.context))
        except Exception as exc:
            answer = error_answer(exc, self.guard, self.metrics)
            if answer is None:
                raise  # not the client's: Observe logs it and answers 500
            await send_answer(send, *answer)
            return
        await send_answer(send, 200, body)
