"""What a token route reads of its request, straight from the ASGI scope: no per-request Starlette objects.

A token request is answered in tens of microseconds, and building Starlette's ``Request``, its
``QueryParams`` and ``Headers`` for it cost about as much as the token. ``TokenRequest`` reads only
what a route asks for, when it asks: the path parameters (found by the route table, ``dispatch``), the
query string (parsed on first use, as Starlette parses it), one header, the body (read with a cap, a
client that leaves raising Starlette's ``ClientDisconnect``, as ``Request.stream`` does).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]


def header_value(scope: Scope, name: bytes) -> Optional[bytes]:
    """The first value of the header ``name`` (lower case) in an ASGI ``scope``, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


class TokenRequest:
    """One request to a token route: its scope, its path parameters and what the app resolved at start."""

    __slots__ = ("scope", "receive", "path_params", "context", "_query")

    def __init__(self, scope: Scope, receive: Receive, path_params: dict[str, str], context: Any) -> None:
        self.scope = scope
        self.receive = receive
        #: The route's parameters as the router matched them (still encoded where the path held "%").
        self.path_params = path_params
        #: The app's ``routes.RouteContext``: credentials, metrics, the user policy's claim names.
        self.context = context
        self._query: Optional[list[tuple[str, str]]] = None

    def query(self, name: str) -> list[str]:
        """Every value of the query parameter ``name``, in order (Starlette's parsing: latin-1, blanks kept)."""
        if self._query is None:
            raw = self.scope.get("query_string", b"")
            self._query = parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if raw else []
        return [value for key, value in self._query if key == name]

    def header(self, name: bytes) -> Optional[str]:
        """The first value of the header ``name`` (lower case), as text (latin-1), or None."""
        value = header_value(self.scope, name)
        return None if value is None else value.decode("latin-1")

    async def body(self, limit: int, too_large: Callable[[], Exception]) -> bytes:
        """The whole body, at most ``limit`` bytes (else ``too_large()`` is raised before reading further)."""
        chunks = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
