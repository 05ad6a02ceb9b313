"""A gunicorn worker class: uvicorn's worker, serving through our guarded HTTP protocol.

    gunicorn -c python:agora_token.server.gunicorn_conf          # uses this worker

The limits (request timeout, connection cap, head size), the parser (``AGORA_TOKEN_HTTP``) and the log
format come from the environment, as ``agora-token serve`` passes them to its own workers. Like the
workers of ``serve --workers N``, each checks every second that its master lives, and stops
gracefully when the master was killed outright (gunicorn's own check is for its sync workers).
"""

from __future__ import annotations

import os
import signal
from typing import Any

from .config import Limits, resolve_http
from .protocol import protocol_class
from .supervisor import PARENT_CHECK_SECONDS

try:
    from uvicorn_worker import UvicornWorker as _Base  # type: ignore[import-untyped]  # no py.typed
except ImportError:  # uvicorn before the worker moved to its own package
    from uvicorn.workers import UvicornWorker as _Base


class UvicornWorker(_Base):  # type: ignore[misc]
    """uvicorn's gunicorn worker with the connection hygiene of ``agora-token serve``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = Limits.from_env()
        # The Config is built but not loaded yet: these take effect when the worker's server starts.
        self.config.http = protocol_class(resolve_http())
        self.config.h11_max_incomplete_event_size = limits.max_header_bytes + 1024 * 1024
        self.config.agora_limits = limits
        self.config.server_header = False
        self.config.access_log = False  # our middleware writes the access log, redacted
        self.config.timeout_notify = min(self.config.timeout_notify, PARENT_CHECK_SECONDS)

    async def callback_notify(self) -> None:
        """The heartbeat gunicorn watches, and a stop (as on SIGTERM) once the master is gone."""
        if os.getppid() != self.ppid:
            self.log.warning("the gunicorn master [%s] is gone: stopping this worker [%s]", self.ppid, os.getpid())
            signal.raise_signal(signal.SIGTERM)
        await super().callback_notify()
