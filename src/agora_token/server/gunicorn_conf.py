"""A gunicorn configuration for the token server: ``gunicorn -c python:agora_token.server.gunicorn_conf``.

It runs ``agora_token.server:app`` (configured from the environment like ``agora-token serve``) in
uvicorn workers with our connection hygiene, sets up prometheus_client's multiprocess mode so that
/metrics, from any worker, reports the sum of all workers, and raises the open-file limit. It reads
the variables ``serve`` reads, under the same names (``agora-token serve --help`` lists them):
``AGORA_TOKEN_HOST``, ``SERVER_PORT``/``PORT`` and ``WEB_CONCURRENCY`` (2 workers when unset) here,
the rest in the app and the worker. Command-line options (``--bind``, ``--workers``,
``--graceful-timeout``) override what is set here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from agora_token.server.config import ConfigError, raise_open_file_limit, resolve_host, resolve_port, resolve_workers

try:
    _host, _port, _workers = resolve_host(), resolve_port(), resolve_workers(default=2)
except ConfigError as exc:  # one line, like `agora-token serve`, rather than gunicorn's traceback
    raise SystemExit(f"agora-token gunicorn config: {exc}") from None

wsgi_app = "agora_token.server:app"
worker_class = "agora_token.server.gunicorn_worker.UvicornWorker"
bind = [f"{_host}:{_port}"]
workers = _workers
#: On SIGTERM, seconds to finish open requests; Kubernetes' terminationGracePeriodSeconds must exceed it.
graceful_timeout = 10
keepalive = 5
# The app logs its own access lines (redacted, escaped); gunicorn's access log is for WSGI workers.
accesslog = None

_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    # Set while the master imports this file, before any worker exists: every worker inherits it.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="agora-token-metrics-")


def on_starting(server: Any) -> None:
    """Every connection holds a descriptor: the master, and the workers it forks, take all they may."""
    raise_open_file_limit()


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: prometheus_client drops its live gauges (its counters still count)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # unannotated upstream


def on_exit(server: Any) -> None:
    """Remove the metrics directory this file made (one given in the environment is left alone)."""
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
