"""``agora-token serve``: its arguments and the function that runs uvicorn (imports uvicorn lazily)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging.config
import os
import signal
import sys
import threading
from typing import Any, Iterator

from .config import (
    ACCESS_LOG_VAR,
    API_KEY_ENV_VAR,
    DEFAULT_API_KEY_ENV,
    DEFAULT_HOST,
    ConfigError,
    Settings,
    resolve_port,
)
from .logs import logging_config

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``serve``'s options to ``parser`` (the credentials and CORS come from the environment)."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=None, help="port to listen on (default: $SERVER_PORT, then $PORT, then 8080)"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default: %(default)s)")
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS, help="(default: %(default)s)")
    parser.add_argument(
        "--api-key-env",
        default=None,
        metavar="VAR",
        help=f"require 'Authorization: Bearer <key>' with the key read from $VAR (default: ${DEFAULT_API_KEY_ENV} "
        "if set, else no key)",
    )
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


def _fail(message: str) -> int:
    # One line, no traceback: this is what an operator sees when the service refuses to start.
    print(f"agora-token serve: {message}", file=sys.stderr)
    return 2


def serve(args: argparse.Namespace) -> int:
    """Run the token server until SIGTERM/SIGINT; 2 (after one stderr line) if it cannot be configured."""
    host: str = getattr(args, "host", DEFAULT_HOST) or DEFAULT_HOST
    workers = getattr(args, "workers", None)
    workers = 1 if workers is None else workers  # not `or 1`: --workers 0 is an error, not a default
    level: str = (getattr(args, "log_level", None) or "info").lower()
    api_key_env = getattr(args, "api_key_env", None)
    access_log: bool = getattr(args, "access_log", True)
    graceful: float = getattr(args, "graceful_timeout", 10.0)
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401  (only checking that the extra is installed)

        from . import application  # noqa: F401  (Starlette too old or broken: say so, not a traceback later)
    except ImportError as exc:
        return _fail(f"needs the [server] extra: pip install 'agora-token[server]' ({exc})")
    try:
        settings = Settings.from_env(api_key_env=api_key_env)
        port = resolve_port(port=getattr(args, "port", None))
    except ConfigError as exc:
        return _fail(str(exc))
    if workers < 1:
        return _fail(f"--workers must be at least 1, got {workers}")
    if level not in LOG_LEVELS:
        return _fail(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
    if not access_log:
        settings = dataclasses.replace(settings, access_log=False)
    options: Any = dict(
        host=host,
        port=port,
        log_level=level,
        access_log=False,  # our middleware writes the access log, redacted and with latency
        timeout_graceful_shutdown=graceful,
        lifespan="on",
        server_header=False,
    )
    try:
        if workers == 1:
            return _run_one(settings, options, level)
        # Workers are fresh processes that import agora_token.server:app, which reads the environment:
        # pass them what came from the command line through it.
        if api_key_env:
            os.environ[API_KEY_ENV_VAR] = api_key_env
        os.environ[ACCESS_LOG_VAR] = "1" if settings.access_log else "0"
        uvicorn.run("agora_token.server:app", workers=workers, log_config=logging_config(level), **options)
        return 0
    except SystemExit as exc:  # uvicorn exits on a port already in use, after logging why
        return exc.code if isinstance(exc.code, int) else 1


def _run_one(settings: Settings, options: Any, level: str) -> int:
    import uvicorn

    from .application import create_app

    # Configure logging before the app exists, so the app's redacting filters are not reset by it.
    logging.config.dictConfig(logging_config(level))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_config=None, **options))
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
