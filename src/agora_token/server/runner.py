"""``agora-token serve``: its arguments and the function that runs uvicorn (imports uvicorn lazily)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging.config
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any, Optional

from ..credentials import APP_ID_VARS, CERTIFICATE_VARS, spelled
from .auth import (
    AUTH_AUDIENCE_VAR,
    AUTH_CLAIMS_VAR,
    AUTH_ISSUER_VAR,
    AUTH_JWKS_CACHE_VAR,
    AUTH_JWKS_MIN_INTERVAL_VAR,
    AUTH_JWKS_VAR,
    AUTH_LEEWAY_VAR,
    AUTH_SECRET_FILE_VAR,
    AUTH_SECRET_VAR,
    AuthSettings,
)
from .config import (
    ACCESS_LOG_VAR,
    API_KEY_ENV_VAR,
    CERTIFICATE_FILE_VAR,
    CERTIFICATE_RELOAD_VAR,
    DEFAULT_API_KEY_ENV,
    DEFAULT_CERTIFICATE_RELOAD,
    DEFAULT_HOST,
    HOST_VAR,
    HTTP_IMPLEMENTATIONS,
    HTTP_VAR,
    LOG_FORMAT_VAR,
    LOG_FORMATS,
    MAX_CONNECTIONS_VAR,
    MAX_HEADER_BYTES_VAR,
    METRICS_PUBLIC_VAR,
    REQUEST_TIMEOUT_VAR,
    WORKERS_VAR,
    ConfigError,
    Limits,
    Settings,
    log_format,
    raise_open_file_limit,
    resolve_host,
    resolve_http,
    resolve_port,
    resolve_workers,
)
from .logs import logging_config

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
MULTIPROC_VAR = "PROMETHEUS_MULTIPROC_DIR"


#: The variables ``serve`` reads, for its --help (each option's own help names the one it overrides).
#: The gunicorn config (``gunicorn_conf``) and deploy/Dockerfile use the same names.
ENVIRONMENT = (
    (spelled(APP_ID_VARS), "the App ID (32 hex characters); --app-id overrides it"),
    (spelled(CERTIFICATE_VARS), "the App Certificate (32 hex characters); never logged"),
    (
        CERTIFICATE_FILE_VAR,
        "a file holding the App Certificate instead, re-read on SIGHUP and when it changes (as --app-certificate-file)",
    ),
    (CERTIFICATE_RELOAD_VAR, "as --certificate-reload"),
    (HOST_VAR, f"the interface to listen on (default {DEFAULT_HOST}); --host overrides it"),
    ("SERVER_PORT, then PORT", "the port (default 8080); --port overrides it"),
    (WORKERS_VAR, "worker processes (default 1); --workers overrides it"),
    ("CORS_ALLOW_ORIGIN", "* (default) or a comma-separated list of allowed origins"),
    (DEFAULT_API_KEY_ENV, "if set, require 'Authorization: Bearer <key>' (--api-key-env names another variable)"),
    (API_KEY_ENV_VAR, "the name of the variable that holds the API key (as --api-key-env)"),
    (METRICS_PUBLIC_VAR, "1 serves /metrics without the API key (as --metrics-public)"),
    (ACCESS_LOG_VAR, "0 turns the access log off (as --no-access-log)"),
    (LOG_FORMAT_VAR, "text (default) or json (as --log-format)"),
    (HTTP_VAR, "as --http"),
    (REQUEST_TIMEOUT_VAR, "as --request-timeout"),
    (MAX_CONNECTIONS_VAR, "as --max-connections"),
    (MAX_HEADER_BYTES_VAR, "as --max-header-bytes"),
    (AUTH_JWKS_VAR, "user authorization: the JSON Web Key Set, an https URL or a file (as --auth-jwks)"),
    (AUTH_SECRET_VAR, "user authorization: an HS256 shared secret (32 bytes or more) instead; never logged"),
    (AUTH_SECRET_FILE_VAR, "user authorization: a file holding that secret (as --auth-secret-file)"),
    (AUTH_AUDIENCE_VAR, "the JWTs' required audience (as --auth-audience; required when authorization is on)"),
    (AUTH_ISSUER_VAR, "the JWTs' required issuer (as --auth-issuer; required when authorization is on)"),
    (AUTH_LEEWAY_VAR, "as --auth-leeway"),
    (AUTH_CLAIMS_VAR, "as --auth-claims"),
    (AUTH_JWKS_CACHE_VAR, "as --auth-jwks-cache"),
    (AUTH_JWKS_MIN_INTERVAL_VAR, "as --auth-jwks-min-interval"),
    (MULTIPROC_VAR, "where --workers N keep their shared metrics (default: a fresh temporary directory)"),
)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``serve``'s options to ``parser``, and list the environment variables it reads in its help."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the variable list one per line
    width = max(len(name) for name, _ in ENVIRONMENT)
    parser.epilog = "environment variables:\n" + "\n".join(
        f"  {name:<{width}}  {meaning}" for name, meaning in ENVIRONMENT
    )
    parser.add_argument(
        "--app-id", default=None, metavar="APP_ID",
        help=f"the App ID (default: from {spelled(APP_ID_VARS)}); the certificate only comes from the environment",
    )  # fmt: skip
    parser.add_argument(
        "--app-certificate-file", default=None, metavar="FILE",
        help=f"read the App Certificate from FILE instead of {spelled(CERTIFICATE_VARS)}; every worker re-reads it on "
        "SIGHUP and when the file changes (a Kubernetes Secret update), and keeps the certificate in use if the new "
        f"one is malformed (default: ${CERTIFICATE_FILE_VAR})",
    )  # fmt: skip
    parser.add_argument(
        "--certificate-reload", type=float, default=None, metavar="SECONDS",
        help="a change of the certificate file is in use within this many seconds; 0: only SIGHUP re-reads it "
        "(default: "
        f"${CERTIFICATE_RELOAD_VAR}, else {DEFAULT_CERTIFICATE_RELOAD:g})",
    )  # fmt: skip
    parser.add_argument(
        "--host", default=None, help=f"interface to listen on (default: ${HOST_VAR}, else {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port to listen on (default: $SERVER_PORT, then $PORT, then 8080)"
    )
    parser.add_argument("--workers", type=int, default=None, help=f"worker processes (default: ${WORKERS_VAR}, else 1)")
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS, help="(default: %(default)s)")
    parser.add_argument(
        "--api-key-env",
        default=None,
        metavar="VAR",
        help=f"require 'Authorization: Bearer <key>' with the key read from $VAR (default: ${DEFAULT_API_KEY_ENV} "
        "if set, else no key)",
    )
    parser.add_argument(
        "--metrics-public", action="store_true", default=None,
        help=f"serve /metrics without the API key, for a Prometheus without a bearer token (default: "
        f"${METRICS_PUBLIC_VAR}, else off)",
    )  # fmt: skip
    parser.add_argument(
        "--no-access-log", dest="access_log", action="store_false", help="do not log one line per request"
    )
    parser.add_argument(
        "--graceful-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="on SIGTERM, wait this long for open requests (default: %(default)s)",
    )
    parser.add_argument(
        "--log-format", choices=LOG_FORMATS, default=None,
        help=f"log lines as text or as one JSON object each (default: ${LOG_FORMAT_VAR}, else text)",
    )  # fmt: skip
    parser.add_argument(
        "--request-timeout", type=float, default=None, metavar="SECONDS",
        help="close a connection that has not sent a whole request (head and body) this long after it "
        f"began; 0: no limit (default: ${REQUEST_TIMEOUT_VAR}, else {Limits.request_timeout:g})",
    )  # fmt: skip
    parser.add_argument(
        "--max-connections", type=int, default=None, metavar="N",
        help="open connections per worker; beyond it the oldest idle one is closed, or the new one gets a 503 "
        f"(default: ${MAX_CONNECTIONS_VAR}, else {Limits.max_connections}; never above the open-file limit)",
    )  # fmt: skip
    parser.add_argument(
        "--max-header-bytes", type=int, default=None, metavar="BYTES",
        help=f"largest request head; beyond it the answer is 431 (default: ${MAX_HEADER_BYTES_VAR}, else "
        f"{Limits.max_header_bytes})",
    )  # fmt: skip
    parser.add_argument(
        "--http", choices=HTTP_IMPLEMENTATIONS, default=None,
        help=f"HTTP parser: httptools (when installed) or h11 (default: ${HTTP_VAR}, else auto)",
    )  # fmt: skip
    _add_auth_arguments(parser)


#: serve's --auth-* options, by the variable each stands for (workers read the variables).
AUTH_OPTIONS = (
    ("auth_jwks", AUTH_JWKS_VAR), ("auth_secret_file", AUTH_SECRET_FILE_VAR), ("auth_audience", AUTH_AUDIENCE_VAR),
    ("auth_issuer", AUTH_ISSUER_VAR), ("auth_leeway", AUTH_LEEWAY_VAR), ("auth_claims", AUTH_CLAIMS_VAR),
    ("auth_jwks_cache", AUTH_JWKS_CACHE_VAR), ("auth_jwks_min_interval", AUTH_JWKS_MIN_INTERVAL_VAR),
)  # fmt: skip


def _add_auth_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "user authorization",
        "Off unless a key is given. Each request for a token then needs 'Authorization: Bearer <JWT>' from your "
        "identity provider (or the API key, for backends), and the JWT's claims decide which tokens the user may "
        "have: the uid or user id must be its 'sub', the channel one of its 'agora_channels' patterns, publishing "
        "needs 'agora_role': 'publisher', uid 0 'agora_uid_any': true, the Chat app token 'agora_chat_app': true.",
    )
    group.add_argument(
        "--auth-jwks",
        metavar="URL|FILE",
        help=f"the identity provider's JSON Web Key Set: an https URL (fetched, cached, refreshed) or a "
        f"file (default: ${AUTH_JWKS_VAR}; ${AUTH_SECRET_VAR} gives an HS256 secret instead)",
    )
    group.add_argument(
        "--auth-secret-file",
        metavar="FILE",
        help=f"read the HS256 shared secret from FILE (default: ${AUTH_SECRET_FILE_VAR})",
    )
    group.add_argument(
        "--auth-audience",
        metavar="AUD",
        help=f"the audience every JWT must be for (default: ${AUTH_AUDIENCE_VAR}; required)",
    )
    group.add_argument(
        "--auth-issuer",
        metavar="ISS",
        help=f"the issuer every JWT must come from (default: ${AUTH_ISSUER_VAR}; required)",
    )
    group.add_argument(
        "--auth-leeway",
        metavar="SECONDS",
        help=f"clock difference allowed on exp and nbf (default: ${AUTH_LEEWAY_VAR}, else {AuthSettings.leeway:g})",
    )
    group.add_argument(
        "--auth-claims",
        metavar="DEFAULT=CLAIM,...",
        help="the claims your JWTs carry where the policy reads another name, e.g. "
        f"'sub=user_id,agora_channels=rooms' (default: ${AUTH_CLAIMS_VAR})",
    )
    group.add_argument(
        "--auth-jwks-cache",
        metavar="SECONDS",
        help=f"refresh a fetched key set once it is this old (default: ${AUTH_JWKS_CACHE_VAR}, else "
        f"{AuthSettings.jwks_cache:g})",
    )
    group.add_argument(
        "--auth-jwks-min-interval",
        metavar="SECONDS",
        help="fetch the key set again for an unknown kid at most once per this many seconds (default: "
        f"${AUTH_JWKS_MIN_INTERVAL_VAR}, else {AuthSettings.jwks_min_interval:g})",
    )


def _fail(message: str) -> int:
    # One line, no traceback: this is what an operator sees when the service refuses to start.
    print(f"agora-token serve: {message}", file=sys.stderr)
    return 2


def serve(args: argparse.Namespace) -> int:
    """Run the token server until SIGTERM/SIGINT; 2 (after one stderr line) if it cannot be configured."""
    level: str = (getattr(args, "log_level", None) or "info").lower()
    api_key_env = getattr(args, "api_key_env", None)
    access_log: bool = getattr(args, "access_log", True)
    metrics_public: bool = bool(getattr(args, "metrics_public", None))
    graceful: float = getattr(args, "graceful_timeout", 10.0)
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401  (only checking that the extra is installed)

        from . import application  # noqa: F401  (Starlette too old or broken: say so, not a traceback later)
    except ImportError as exc:
        return _fail(
            "needs the [server] extra: pip install '.[server]' in a checkout (once released: "
            f"pip install 'agora-token[server]') ({exc})"
        )
    try:
        app_id = getattr(args, "app_id", None)
        certificate_file = getattr(args, "app_certificate_file", None)
        auth_options = {var: getattr(args, option, None) for option, var in AUTH_OPTIONS}
        settings = Settings.from_env(api_key_env=api_key_env, app_id=app_id, certificate_file=certificate_file,
                                     auth_options=auth_options)  # fmt: skip
        reload = getattr(args, "certificate_reload", None)
        if reload is not None:
            if not 0 <= reload < float("inf"):
                raise ConfigError(f"--certificate-reload must be a number of seconds of at least 0, got {reload!r}")
            settings = dataclasses.replace(settings, certificate_reload=reload)
        host = resolve_host(host=getattr(args, "host", None))
        port = resolve_port(port=getattr(args, "port", None))
        workers = resolve_workers(workers=getattr(args, "workers", None))
        http = resolve_http(http=getattr(args, "http", None))
        limits = _limits(args)
        fmt = getattr(args, "log_format", None) or log_format()
        if settings.auth is not None:
            _check_keys(settings.auth)
    except ConfigError as exc:
        return _fail(str(exc))
    except ImportError as exc:
        return _fail(f"user authorization needs PyJWT and cryptography (the [server] extra: PyJWT[crypto]): {exc}")
    try:
        from .protocol import protocol_class

        protocol = protocol_class(http)
    except ValueError as exc:
        return _fail(str(exc))
    if level not in LOG_LEVELS:
        return _fail(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
    if not access_log:
        settings = dataclasses.replace(settings, access_log=False)
    if metrics_public:
        settings = dataclasses.replace(settings, metrics_public=True)
    # Every idle or slow client holds a descriptor: take all the process may have.
    raise_open_file_limit()
    options: Any = dict(
        host=host,
        port=port,
        log_level=level,
        access_log=False,  # our middleware writes the access log, redacted and with latency
        timeout_graceful_shutdown=graceful,
        lifespan="on",
        server_header=False,
        http=protocol,
        # h11's own head cap answers a plain-text 400: keep it above ours, which answers 431.
        h11_max_incomplete_event_size=limits.max_header_bytes + 1024 * 1024,
    )
    os.environ[LOG_FORMAT_VAR] = fmt
    os.environ.update(limits.to_env())
    try:
        if workers == 1:
            return _run_one(settings, options, level, fmt, limits)
        # Workers are fresh processes that import agora_token.server:app, which reads the environment:
        # pass them what came from the command line through it.
        if api_key_env:
            os.environ[API_KEY_ENV_VAR] = api_key_env
        os.environ[APP_ID_VARS[0]] = settings.app_id  # --app-id, or what the variables gave: the same app
        os.environ[ACCESS_LOG_VAR] = "1" if settings.access_log else "0"
        os.environ[METRICS_PUBLIC_VAR] = "1" if settings.metrics_public else "0"
        os.environ[CERTIFICATE_RELOAD_VAR] = repr(settings.certificate_reload)
        os.environ.update({var: value for var, value in auth_options.items() if value is not None})
        if settings.app_certificate_file:
            os.environ[CERTIFICATE_FILE_VAR] = settings.app_certificate_file
        with _multiprocess_metrics():
            return _run_workers(workers, options, level, fmt)
    except SystemExit as exc:  # uvicorn exits on a port already in use, after logging why
        return exc.code if isinstance(exc.code, int) else 1


def _check_keys(auth: AuthSettings) -> None:
    """Read a JWKS file now (``ConfigError``), so that a bad one stops ``serve`` in one line, not each worker."""
    from .keys import load_keys

    load_keys(auth).close()


def _limits(args: argparse.Namespace) -> Limits:
    """The environment's limits, overridden by the command line (``ConfigError`` on a bad value)."""
    env = dict(os.environ)
    for option, var in (("request_timeout", REQUEST_TIMEOUT_VAR), ("max_connections", MAX_CONNECTIONS_VAR),
                        ("max_header_bytes", MAX_HEADER_BYTES_VAR)):  # fmt: skip
        value = getattr(args, option, None)
        if value is not None:
            env[var] = str(value)
    try:
        return Limits.from_env(env)
    except ConfigError as exc:
        # Name the option the user typed, not the variable it was passed through.
        message = str(exc)
        for option, var in (("--request-timeout", REQUEST_TIMEOUT_VAR), ("--max-connections", MAX_CONNECTIONS_VAR),
                            ("--max-header-bytes", MAX_HEADER_BYTES_VAR)):  # fmt: skip
            if message.startswith(var) and getattr(args, option[2:].replace("-", "_"), None) is not None:
                message = option + message[len(var) :]
        raise ConfigError(message) from None


@contextlib.contextmanager
def _multiprocess_metrics() -> Iterator[Optional[str]]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for the workers (unless one is set), removed afterwards.

    prometheus_client's multiprocess mode: each worker writes its counts there and /metrics, from
    any worker, adds them up, so ``--workers N`` reports one server, not whichever worker answered.
    """
    if os.environ.get(MULTIPROC_VAR):
        yield os.environ[MULTIPROC_VAR]
        return
    path = tempfile.mkdtemp(prefix="agora-token-metrics-")
    os.environ[MULTIPROC_VAR] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_VAR, None)
        shutil.rmtree(path, ignore_errors=True)


def _run_workers(workers: int, options: Any, level: str, fmt: str) -> int:
    """``workers`` processes serving ``agora_token.server:app`` on one socket, under ``supervisor.Supervisor``."""
    import uvicorn

    from .supervisor import Supervisor, worker_options

    config = uvicorn.Config("agora_token.server:app", workers=workers, log_config=logging_config(level, fmt),
                            **options, **worker_options())  # fmt: skip
    supervisor = Supervisor(config, sockets=[config.bind_socket()])
    supervisor.run()
    return 1 if supervisor.failed_to_start else 0


def _run_one(settings: Settings, options: Any, level: str, fmt: str, limits: Limits) -> int:
    import uvicorn

    from .application import create_app
    from .supervisor import hold_hangups

    # Configure logging before the app exists, so the app's redacting filters are not reset by it.
    logging.config.dictConfig(logging_config(level, fmt))
    hold_hangups()  # a SIGHUP during start-up waits for the app's handler instead of ending the process
    config = uvicorn.Config(create_app(settings), log_config=None, **options)
    config.agora_limits = limits  # type: ignore[attr-defined]  # read by the protocol (see protocol.py)
    server = uvicorn.Server(config)
    with _absorb_stop_signals():
        server.run()
    return 0 if server.started else 1


@contextlib.contextmanager
def _absorb_stop_signals() -> Iterator[None]:
    """Let SIGTERM/SIGINT end ``serve`` with a return value, after uvicorn's graceful shutdown.

    uvicorn handles the signal itself, then re-raises it to the handler that was there before;
    with the defaults that would kill the process (SIGTERM) or raise KeyboardInterrupt with a
    traceback (SIGINT) after a clean shutdown. This handler is the one it re-raises to.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in stops}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
