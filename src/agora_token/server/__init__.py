"""A token server compatible with agora-token-service's routes (extra ``[server]``: Starlette + uvicorn).

Ways to run it (the environment gives ``APP_ID``/``APP_CERTIFICATE``, see ``config``):

* ``agora-token serve [--host H] [--port P] [--workers N]`` — checks the credentials first and
  refuses to start with one line on stderr;
* ``gunicorn -c python:agora_token.server.gunicorn_conf`` — uvicorn workers under gunicorn, with the
  same connection limits, the access log, and one /metrics summed over the workers (``deploy/``
  has a Dockerfile and Kubernetes manifests for it);
* ``uvicorn agora_token.server:app`` — ``app`` reads the environment on first use; if that fails,
  lifespan startup fails with the reason (and, without lifespan, every request gets a 503 JSON);
* ``uvicorn --factory agora_token.server:create_app`` — builds the app at startup, raising
  ``ConfigError`` on bad credentials;
* in your own code: ``create_app(Settings(app_id=..., app_certificate=...))``.

``agora-token serve`` and the gunicorn config serve through ``protocol``'s uvicorn protocols, which time
out requests that do not arrive whole (``--request-timeout``), cap open connections and request heads,
and answer refusals in JSON; a plain ``uvicorn ...`` command line uses uvicorn's own protocol unless
given ``--http agora_token.server.protocol:GuardedHttpToolsProtocol`` (or ``GuardedH11Protocol``),
where uvicorn takes an import string there (0.54 does); the limits then come from the environment.

Importing this package needs neither Starlette nor uvicorn, so a CLI can add ``serve`` always.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .config import ConfigError, Settings
from .lazy import LazyApp
from .runner import add_serve_arguments, serve

if TYPE_CHECKING:
    from starlette.applications import Starlette


def create_app(settings: Optional[Settings] = None) -> Starlette:
    """The token server as a Starlette app; ``settings`` default to the environment (``ConfigError``)."""
    from .application import create_app as _create_app  # Starlette is imported only when an app is wanted

    return _create_app(settings)


#: The ASGI app for ``uvicorn agora_token.server:app``; configured from the environment on first use.
app = LazyApp()

__all__ = ["ConfigError", "LazyApp", "Settings", "add_serve_arguments", "app", "create_app", "serve"]
