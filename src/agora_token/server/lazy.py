"""``agora_token.server:app``: an ASGI app that configures itself from the environment on first use.

Importing it never fails (no environment is read, Starlette is not imported). The first lifespan
event or request builds the real app; if the environment cannot configure it, lifespan startup
fails with the one-line reason (uvicorn then exits), and a server that skips lifespan answers
every request 503 ``{"error": "server not configured: ...", "message": ..., "status": 503}``.
"""

from __future__ import annotations

from typing import Any, Optional

from .config import ConfigError
from .errors import error_json


class LazyApp:
    """The module-level ASGI app for ``uvicorn agora_token.server:app``."""

    def __init__(self) -> None:
        self._app: Any = None
        self._error: Optional[str] = None

    def _load(self) -> None:
        if self._app is not None or self._error is not None:
            return
        try:
            from .application import create_app
        except ImportError as exc:
            self._error = (
                "the server needs the [server] extra (pip install '.[server]' in a checkout; once released, "
                f"pip install 'agora-token[server]'): {exc}"
            )
            return
        try:
            self._app = create_app()
        except ConfigError as exc:
            self._error = str(exc)

    @property
    def error(self) -> Optional[str]:
        """Why the app is not configured, once it has tried; None if it is (or has not tried)."""
        return self._error

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self._load()
        if self._app is not None:
            await self._app(scope, receive, send)
        elif scope["type"] == "lifespan":
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.failed", "message": f"agora-token server: {self._error}"})
        elif scope["type"] == "http":
            body = error_json(503, f"server not configured: {self._error}")
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
