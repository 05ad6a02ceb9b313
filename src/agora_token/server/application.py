"""The Starlette application: routes, error handlers, middleware, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator
from typing import Any, Callable, Optional

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from .. import _backend
from . import routes
from .certificate import SigningCertificate
from .config import Settings, log_format
from .errors import error_body
from .logs import ERROR_LOGGER, RedactSecrets, ensure_handlers, guard_loggers
from .metrics import Metrics
from .middleware import Gate, KeepEncodedSlashes, Observe, Scope
from .openapi import build_openapi
from .policy import Refused

log = logging.getLogger(ERROR_LOGGER)


class SegmentConvertor(Convertor):  # type: ignore[type-arg]
    """A path segment that may be empty: agora-token-service (gin) matches ``/rtc/c/publisher/uid//`` too."""

    regex = "[^/]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("segment", SegmentConvertor())

# (template, endpoint, methods). The token routes are agora-token-service's, whose segments may be empty
# ({name:segment}); an empty one is then a 400 naming it, or what that service makes of it (an empty
# uid is 0). Both spellings of every route are served directly, and there is no trailing-slash redirect
# at all: a 307 would cost clients a round trip, not every client follows one, and Starlette builds its
# Location from the Host header.
ROUTES = [
    ("/getToken", routes.get_token, ["POST"]),
    ("/rtc/{channel:segment}/{role:segment}/{tokentype:segment}/{uid:segment}/", routes.rtc_token, ["GET"]),
    ("/rtm/{uid:segment}/", routes.rtm_token, ["GET"]),
    ("/rte/{channel:segment}/{role:segment}/{tokentype:segment}/{rtcid:segment}/", routes.rte_token, ["GET"]),
    ("/rte/{channel:segment}/{role:segment}/{tokentype:segment}/{rtcid:segment}/{rtmid:segment}/", routes.rte_token,
     ["GET"]),
    ("/chat/app/", routes.chat_app_token, ["GET"]),
    ("/chat/account/{uid:segment}/", routes.chat_user_token, ["GET"]),
    ("/ping", routes.ping, ["GET"]),
    ("/healthz", routes.healthz, ["GET"]),
    ("/metrics", routes.metrics, ["GET"]),
    ("/openapi.json", routes.openapi, ["GET"]),
]  # fmt: skip


def _label(template: str) -> str:
    """The template as the metrics and the OpenAPI document name it: ``{uid}``, not ``{uid:segment}``."""
    return template.replace(":segment}", "}")


def _routes() -> list[tuple[Route, str]]:
    """Every route with the template it is counted under, in the order the router tries them."""
    table, rare = [], []
    for template, endpoint, methods in ROUTES:
        label = _label(template)
        table.append((Route(template, endpoint, methods=methods), label))
        if template.endswith("/"):
            # The spelling without the trailing "/": its last segment may not be empty, or "/rtm/" would
            # be "/rtm/{uid}" with an empty uid (agora-token-service has no route there).
            short = template[:-1]
            if short.endswith(":segment}"):
                short = short[: -len(":segment}")] + "}"
            table.append((Route(short, endpoint, methods=methods), label))
        else:  # served so that no redirect is needed; last, as the router tries routes in order
            rare.append((Route(template + "/", endpoint, methods=methods), label))
    return table + rare


def route_labels(table: list[tuple[Route, str]]) -> Callable[[Scope], str]:
    """The template a request is counted under: its route's, or "unmatched".

    A request the middleware answered itself (a CORS preflight, a wrong API key or origin) never
    reached the router: its route is found by matching its path, method aside.
    """
    by_endpoint: dict[Any, str] = {route.endpoint: label for route, label in table}

    def label_of(scope: Scope) -> str:
        label = by_endpoint.get(scope.get("endpoint"))
        if label is not None:
            return label
        for route, template in table:
            if route.matches(scope)[0] is not Match.NONE:
                return template
        return "unmatched"

    return label_of


def _error_handlers(guard: RedactSecrets, metrics: Metrics) -> dict[Any, Any]:
    async def bad_request(request: Request, exc: Exception) -> Response:
        # The validation messages never hold the certificate; redacting still guards an echoed input.
        return JSONResponse(error_body(400, guard.redact(str(exc))), status_code=400)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        detail = {404: "no such route", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
        return JSONResponse(error_body(exc.status_code, detail), status_code=exc.status_code, headers=exc.headers)

    async def internal(request: Request, exc: Exception) -> Response:
        return JSONResponse(error_body(500, "internal server error"), status_code=500)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        metrics.auth_refused(exc.rule)
        # RFC 6750, 3.1: the JWT is valid, but does not reach this far.
        challenge = 'Bearer realm="agora-token", error="insufficient_scope"'
        return JSONResponse(error_body(403, exc.message), status_code=403, headers={"www-authenticate": challenge})

    # ValueError/TypeError come from agora_token.validation and the builders: always the caller's input.
    return {ValueError: bad_request, TypeError: bad_request, Refused: forbidden, HTTPException: http_error,
            Exception: internal}  # fmt: skip


@contextlib.asynccontextmanager
async def _rotation(certificate: SigningCertificate, interval: float) -> AsyncIterator[None]:
    """While the app runs: SIGHUP re-reads the certificate file, and a task looks at it twice per ``interval``.

    Twice, so that a change is in use within ``interval`` seconds even when the loop is busy and a look
    comes late (a look is one ``stat``). Both read the file in a thread, never on the event loop. SIGHUP
    is caught only where a signal can be (the main thread of a process: ``serve``, each of its workers);
    an app run in another thread still polls.
    """
    loop = asyncio.get_running_loop()
    hup = getattr(signal, "SIGHUP", None)
    caught = False
    if hup is not None and threading.current_thread() is threading.main_thread():
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # a loop without signals
            loop.add_signal_handler(hup, lambda: loop.run_in_executor(None, certificate.reload, "SIGHUP"))
            caught = True
            # ``serve`` holds SIGHUP blocked until now (supervisor.hold_hangups): one sent meanwhile comes now.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {hup})

    async def watch() -> None:
        while True:
            await asyncio.sleep(interval / 2)
            try:
                await loop.run_in_executor(None, certificate.poll)
            except Exception:  # never let the watch die: the next look may succeed
                log.exception("looking at the App Certificate file failed")

    task = loop.create_task(watch()) if certificate.path and interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if caught and hup is not None:
            loop.remove_signal_handler(hup)


def create_app(settings: Optional[Settings] = None) -> Starlette:
    """The token server as an ASGI app; ``settings`` default to ``Settings.from_env()`` (``ConfigError``)."""
    settings = Settings.from_env() if settings is None else settings
    fmt = log_format()
    ensure_handlers(fmt)  # before guarding, so a handler added here is guarded too
    secrets = [settings.app_certificate, settings.api_key or ""]
    if settings.auth is not None and settings.auth.secret is not None:
        secrets.append(settings.auth.secret)
    guard = guard_loggers(secrets)
    metrics = Metrics()
    table = _routes()
    bearer = None
    if settings.auth is not None:
        from .bearer import BearerAuth  # PyJWT, only when user authorization is on
        from .keys import load_keys

        bearer = BearerAuth(settings.auth, load_keys(settings.auth))

    certificate = SigningCertificate(
        settings.app_certificate, settings.app_certificate_file, learn=lambda value: guard.add([value])
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Settings never print secrets (repr=False), so this line is safe to log.
        log.info(
            "agora-token server ready: app_id %s, backend %s, CORS %s, API key %s%s, certificate from %s",
            settings.app_id, _backend.name, ",".join(settings.cors_allow_origins),
            "required" if settings.api_key else "off",
            " (not for /metrics)" if settings.api_key and settings.metrics_public else "",
            repr(settings.app_certificate_file) if settings.app_certificate_file else "the environment",
        )  # fmt: skip
        if bearer is not None:
            auth = settings.auth
            assert auth is not None
            log.info("user authorization on: JWTs for audience %r from issuer %r, keys from %s", auth.audience,
                     auth.issuer, auth.jwks or "the HS256 secret")  # fmt: skip
            await bearer.keys.start()
        try:
            async with _rotation(certificate, settings.certificate_reload):
                yield
        finally:
            if bearer is not None:
                bearer.keys.close()
        log.info("agora-token server stopped")

    app = Starlette(
        routes=[route for route, _ in table],
        middleware=[
            Middleware(
                Observe,
                metrics=metrics,
                routes=route_labels(table),
                log_access=settings.access_log,
                guard=guard,
                json_fields=fmt == "json",
            ),
            Middleware(KeepEncodedSlashes),
            Middleware(Gate, settings=settings, bearer=bearer, refused=metrics.auth_refused),
        ],
        exception_handlers=_error_handlers(guard, metrics),
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # never a redirect built from the client's Host header
    app.state.settings = settings
    app.state.certificate = certificate
    app.state.metrics = metrics
    #: The claim names of the user policy; None when user authorization is off (``routes.authorize``).
    app.state.claim_names = settings.auth.claims if settings.auth is not None else None
    app.state.openapi = build_openapi(api_key=settings.api_key is not None, metrics_public=settings.metrics_public,
                                      user_jwt=settings.auth is not None)  # fmt: skip
    return app
