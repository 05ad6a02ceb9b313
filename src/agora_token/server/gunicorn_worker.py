"""A gunicorn worker class: uvicorn's worker, serving through our guarded HTTP protocol.

    gunicorn -c python:agora_token.server.gunicorn_conf          # uses this worker

The limits (request timeout, connection cap, head size), the parser (``AGORA_TOKEN_HTTP``) and the log
format come from the environment, as ``agora-token serve`` passes them to its own workers.
"""

from __future__ import annotations

import os
from typing import Any

from .config import Limits
from .protocol import protocol_class

try:
    from uvicorn_worker import UvicornWorker as _Base
except ImportError:  # uvicorn before the worker moved to its own package
    from uvicorn.workers import UvicornWorker as _Base  # type: ignore[no-redef]

HTTP_VAR = "AGORA_TOKEN_HTTP"


class UvicornWorker(_Base):  # type: ignore[misc,valid-type]
    """uvicorn's gunicorn worker with the connection hygiene of ``agora-token serve``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = Limits.from_env()
        # The Config is built but not loaded yet: these take effect when the worker's server starts.
        self.config.http = protocol_class(os.environ.get(HTTP_VAR, "").strip() or "auto")
        self.config.h11_max_incomplete_event_size = limits.max_header_bytes + 1024 * 1024
        self.config.agora_limits = limits
        self.config.server_header = False
        self.config.access_log = False  # our middleware writes the access log, redacted
