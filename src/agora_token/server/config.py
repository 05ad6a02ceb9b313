"""Server settings, read from the environment as agora-token-service reads them (stdlib only)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Tuple

from ..validation import check_app_id, check_certificate

#: Where the bearer key is read from unless ``--api-key-env`` names another variable.
DEFAULT_API_KEY_ENV = "AGORA_TOKEN_API_KEY"
#: Lets ``--api-key-env`` reach worker processes, which configure themselves from the environment.
API_KEY_ENV_VAR = "AGORA_TOKEN_API_KEY_ENV"
ACCESS_LOG_VAR = "AGORA_TOKEN_ACCESS_LOG"
DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"


class ConfigError(ValueError):
    """The environment cannot configure the server; the message is one line and never holds a secret."""


def _first(environ: Mapping[str, str], *names: str) -> Tuple[str, str]:
    """The first of ``names`` set to a non-blank value, as (name, value); ("", "") if none is."""
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return "", ""


def _credential(environ: Mapping[str, str], names: Tuple[str, str], check: Callable[[object], str]) -> str:
    name, value = _first(environ, *names)
    if not name:
        raise ConfigError(f"{names[0]} (or {names[1]}) is not set")
    try:
        return check(value)
    except (TypeError, ValueError) as exc:
        # The validation message never contains the value, only its length.
        raise ConfigError(f"{name} is malformed: {exc}") from None


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be 1/0, true/false, yes/no or on/off")


def parse_origins(value: str) -> Tuple[str, ...]:
    """``CORS_ALLOW_ORIGIN``: "*" (any origin) or a comma-separated list of origins."""
    origins = tuple(dict.fromkeys(o.strip().rstrip("/") for o in value.split(",") if o.strip()))
    if not origins:
        return ("*",)
    if "*" in origins and len(origins) > 1:
        raise ConfigError("CORS_ALLOW_ORIGIN is either * or a list of origins, not both")
    return origins


def resolve_port(environ: Optional[Mapping[str, str]] = None, port: Optional[int] = None) -> int:
    """``port`` if given, else ``SERVER_PORT``, then ``PORT``, then 8080."""
    environ = os.environ if environ is None else environ
    if port is None:
        name, value = _first(environ, "SERVER_PORT", "PORT")
        if not name:
            return DEFAULT_PORT
        if not value.isdigit():
            raise ConfigError(f"{name} must be a port number, got {value!r}")
        port = int(value)
        where = name
    else:
        where = "--port"
    if not 0 <= port <= 65535:
        raise ConfigError(f"{where} must be between 0 and 65535, got {port}")
    return port


@dataclass(frozen=True)
class Settings:
    """What the token server needs: credentials, allowed origins, optional API key, access-log switch."""

    app_id: str
    # repr=False: a Settings object printed in a log or a traceback must not show secrets.
    app_certificate: str = field(repr=False)
    cors_allow_origins: Tuple[str, ...] = ("*",)
    api_key: Optional[str] = field(default=None, repr=False)
    access_log: bool = True

    def __post_init__(self) -> None:
        try:
            check_app_id(self.app_id)
            check_certificate(self.app_certificate)
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc)) from None
        if self.api_key is not None and (not self.api_key or any(c.isspace() for c in self.api_key)):
            raise ConfigError("the API key must be non-empty and contain no whitespace")

    @property
    def any_origin(self) -> bool:
        """Whether every origin may call the server."""
        return self.cors_allow_origins == ("*",)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, *, api_key_env: Optional[str] = None) -> "Settings":
        """Read ``APP_ID``/``APP_CERTIFICATE`` (or the ``AGORA_`` names), CORS, API key; raise ``ConfigError``."""
        environ = os.environ if environ is None else environ
        app_id = _credential(environ, ("APP_ID", "AGORA_APP_ID"), check_app_id)
        certificate = _credential(environ, ("APP_CERTIFICATE", "AGORA_APP_CERTIFICATE"), check_certificate)
        origins = parse_origins(environ.get("CORS_ALLOW_ORIGIN", "*"))
        # An explicitly named variable must be set: asking for auth and silently getting none is worse.
        explicit = api_key_env or environ.get(API_KEY_ENV_VAR, "").strip()
        key_var = explicit or DEFAULT_API_KEY_ENV
        api_key = environ.get(key_var, "").strip() or None
        if explicit and api_key is None:
            raise ConfigError(f"the API key variable {key_var} is not set")
        return cls(
            app_id=app_id,
            app_certificate=certificate,
            cors_allow_origins=origins,
            api_key=api_key,
            access_log=_flag(environ, ACCESS_LOG_VAR, True),
        )
