"""The Starlette application: routes, error handlers, middleware, lifespan."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, AsyncIterator, Dict, List, Optional

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import _backend
from . import routes
from .config import Settings
from .config import log_format
from .logs import ERROR_LOGGER, RedactSecrets, ensure_handlers, guard_loggers
from .metrics import Metrics
from .middleware import Gate, Observe
from .openapi import build_openapi

log = logging.getLogger(ERROR_LOGGER)

# (template, endpoint, methods). agora-token-service's routes end in "/"; both spellings of every route
# are served directly, and there is no trailing-slash redirect at all: a 307 would cost clients a round
# trip, not every client follows one, and Starlette builds its Location from the Host header.
ROUTES = [
    ("/getToken", routes.get_token, ["POST"]),
    ("/rtc/{channel}/{role}/{tokentype}/{uid}/", routes.rtc_token, ["GET"]),
    ("/rtm/{uid}/", routes.rtm_token, ["GET"]),
    ("/rte/{channel}/{role}/{tokentype}/{rtcid}/{rtmid}/", routes.rte_token, ["GET"]),
    ("/chat/app/", routes.chat_app_token, ["GET"]),
    ("/chat/account/{uid}/", routes.chat_user_token, ["GET"]),
    ("/ping", routes.ping, ["GET"]),
    ("/healthz", routes.healthz, ["GET"]),
    ("/metrics", routes.metrics, ["GET"]),
    ("/openapi.json", routes.openapi, ["GET"]),
]


def _routes() -> List[Route]:
    table, rare = [], []
    for template, endpoint, methods in ROUTES:
        table.append(Route(template, endpoint, methods=methods))
        if template.endswith("/"):  # agora-token-service's clients call both spellings of these
            table.append(Route(template.rstrip("/"), endpoint, methods=methods))
        else:  # served so that no redirect is needed; last, as the router tries routes in order
            rare.append(Route(template + "/", endpoint, methods=methods))
    return table + rare


def _error_handlers(guard: RedactSecrets) -> Dict[Any, Any]:
    async def bad_request(request: Request, exc: Exception) -> Response:
        # The validation messages never hold the certificate; redacting still guards an echoed input.
        return JSONResponse({"error": guard.redact(str(exc))}, status_code=400)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        detail = {404: "no such route", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
        return JSONResponse({"error": detail}, status_code=exc.status_code, headers=exc.headers)

    async def internal(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "internal server error"}, status_code=500)

    # ValueError/TypeError come from agora_token.validation and the builders: always the caller's input.
    return {ValueError: bad_request, TypeError: bad_request, HTTPException: http_error, Exception: internal}


def create_app(settings: Optional[Settings] = None) -> Starlette:
    """The token server as an ASGI app; ``settings`` default to ``Settings.from_env()`` (``ConfigError``)."""
    settings = Settings.from_env() if settings is None else settings
    fmt = log_format()
    ensure_handlers(fmt)  # before guarding, so a handler added here is guarded too
    guard = guard_loggers([settings.app_certificate] + ([settings.api_key] if settings.api_key else []))
    metrics = Metrics()
    route_names = {endpoint: template for template, endpoint, _ in ROUTES}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Settings never print secrets (repr=False), so this line is safe to log.
        log.info(
            "agora-token server ready: app_id %s, backend %s, CORS %s, API key %s",
            settings.app_id, _backend.name, ",".join(settings.cors_allow_origins),
            "required" if settings.api_key else "off",
        )  # fmt: skip
        yield
        log.info("agora-token server stopped")

    app = Starlette(
        routes=_routes(),
        middleware=[
            Middleware(Observe, metrics=metrics, routes=route_names, log_access=settings.access_log, guard=guard,
                       json_fields=fmt == "json"),
            Middleware(Gate, settings=settings),
        ],
        exception_handlers=_error_handlers(guard),
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # never a redirect built from the client's Host header
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.openapi = build_openapi(api_key=settings.api_key is not None)
    return app
