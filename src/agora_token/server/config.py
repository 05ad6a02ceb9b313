"""Server settings, read from the environment as agora-token-service reads them (stdlib only)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional, Union

from ..credentials import APP_ID_VARS, CERTIFICATE_VARS, first_set, spelled
from ..validation import check_app_id, check_certificate

if TYPE_CHECKING:
    from .auth import AuthSettings

#: Where the bearer key is read from unless ``--api-key-env`` names another variable.
DEFAULT_API_KEY_ENV = "AGORA_TOKEN_API_KEY"
#: Lets ``--api-key-env`` reach worker processes, which configure themselves from the environment.
API_KEY_ENV_VAR = "AGORA_TOKEN_API_KEY_ENV"
ACCESS_LOG_VAR = "AGORA_TOKEN_ACCESS_LOG"
#: "1": /metrics answers without the API key (Prometheus then needs no bearer token).
METRICS_PUBLIC_VAR = "AGORA_TOKEN_METRICS_PUBLIC"
#: The interface to listen on, for ``serve``, the gunicorn config and the Docker image alike.
HOST_VAR = "AGORA_TOKEN_HOST"
#: Worker processes: the name gunicorn and most platforms use, read by ``serve`` too.
WORKERS_VAR = "WEB_CONCURRENCY"
#: The HTTP parser ("auto", "httptools" or "h11"), for ``serve`` and the gunicorn worker.
HTTP_VAR = "AGORA_TOKEN_HTTP"
HTTP_IMPLEMENTATIONS = ("auto", "httptools", "h11")
#: A file holding the App Certificate (instead of APP_CERTIFICATE): re-read on SIGHUP and when it changes.
CERTIFICATE_FILE_VAR = "APP_CERTIFICATE_FILE"
#: Seconds between two looks at the certificate file (0: only SIGHUP re-reads it).
CERTIFICATE_RELOAD_VAR = "AGORA_TOKEN_CERTIFICATE_RELOAD"
DEFAULT_CERTIFICATE_RELOAD = 5.0
#: A certificate file holds 32 characters and a newline or so; anything much larger is not one.
MAX_CERTIFICATE_FILE_BYTES = 4096
DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"


class ConfigError(ValueError):
    """The environment cannot configure the server; the message is one line and never holds a secret."""


def _first(environ: Mapping[str, str], *names: str) -> tuple[str, str]:
    """The first of ``names`` set to a non-blank value, as (name, value); ("", "") if none is."""
    return first_set(environ, names)


def _credential(environ: Mapping[str, str], names: tuple[str, str], check: Callable[[object], str]) -> str:
    name, value = _first(environ, *names)
    if not name:
        raise ConfigError(f"{spelled(names)} is not set")
    try:
        return check(value)
    except (TypeError, ValueError) as exc:
        # The validation message never contains the value, only its length.
        raise ConfigError(f"{name} is malformed: {exc}") from None


def read_small_file(path: str, what: str, limit: int) -> str:
    """The UTF-8 text in ``path``, stripped, at most ``limit`` bytes; ``ConfigError`` naming ``what`` and the file.

    For the files that hold a secret (the App Certificate, the HS256 secret): never echoes their content.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} file {path!r}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ConfigError(f"{what} file {path!r} is larger than {limit} bytes")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"{what} file {path!r} is not UTF-8 text") from None


def read_certificate_file(path: str) -> str:
    """The App Certificate in ``path`` (surrounding whitespace ignored), checked; ``ConfigError`` naming the file."""
    text = read_small_file(path, "the App Certificate", MAX_CERTIFICATE_FILE_BYTES)
    if not text:
        raise ConfigError(f"the App Certificate file {path!r} is empty")
    try:
        return check_certificate(text)
    except (TypeError, ValueError) as exc:  # the message gives the length, never the value
        raise ConfigError(f"the App Certificate file {path!r} is malformed: {exc}") from None


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be 1/0, true/false, yes/no or on/off")


def parse_origins(value: str) -> tuple[str, ...]:
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


def resolve_host(environ: Optional[Mapping[str, str]] = None, host: Optional[str] = None) -> str:
    """``host`` if given, else ``AGORA_TOKEN_HOST``, else 127.0.0.1."""
    environ = os.environ if environ is None else environ
    if host is not None:
        return host
    return environ.get(HOST_VAR, "").strip() or DEFAULT_HOST


def resolve_workers(environ: Optional[Mapping[str, str]] = None, workers: Optional[int] = None,
                    default: int = 1) -> int:  # fmt: skip
    """``workers`` if given, else ``WEB_CONCURRENCY``, else ``default``; at least 1 (``ConfigError``)."""
    environ = os.environ if environ is None else environ
    if workers is None:
        return int(env_number(environ, WORKERS_VAR, default, 1, True))
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    return workers


def resolve_http(environ: Optional[Mapping[str, str]] = None, http: Optional[str] = None) -> str:
    """``http`` if given, else ``AGORA_TOKEN_HTTP``, else "auto" (``ConfigError`` on another word)."""
    environ = os.environ if environ is None else environ
    if http is not None:
        return http
    value = environ.get(HTTP_VAR, "").strip().lower() or "auto"
    if value not in HTTP_IMPLEMENTATIONS:
        raise ConfigError(f"{HTTP_VAR} must be one of {', '.join(HTTP_IMPLEMENTATIONS)}, got {value[:40]!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """What the token server needs: credentials, allowed origins, API key, user authorization, switches."""

    app_id: str
    # repr=False: a Settings object printed in a log or a traceback must not show secrets.
    app_certificate: str = field(repr=False)
    cors_allow_origins: tuple[str, ...] = ("*",)
    api_key: Optional[str] = field(default=None, repr=False)
    access_log: bool = True
    #: /metrics answers without the API key (the other routes still need it).
    metrics_public: bool = False
    #: Where ``app_certificate`` was read from: the server re-reads it on SIGHUP and when it changes.
    app_certificate_file: Optional[str] = None
    #: Seconds between two looks at ``app_certificate_file``; 0: only SIGHUP re-reads it.
    certificate_reload: float = DEFAULT_CERTIFICATE_RELOAD
    #: End-user authorization (a JWT per request, and the policy on its claims); None: off.
    auth: Optional[AuthSettings] = None

    def __post_init__(self) -> None:
        try:
            check_app_id(self.app_id)
            check_certificate(self.app_certificate)
        except (TypeError, ValueError) as exc:
            raise ConfigError(str(exc)) from None
        if self.api_key is not None and (not self.api_key or any(c.isspace() for c in self.api_key)):
            raise ConfigError("the API key must be non-empty and contain no whitespace")
        reload = self.certificate_reload
        if isinstance(reload, bool) or not isinstance(reload, (int, float)) or not 0 <= reload < float("inf"):
            raise ConfigError("certificate_reload must be a number of seconds, 0 or more")

    @property
    def any_origin(self) -> bool:
        """Whether every origin may call the server."""
        return self.cors_allow_origins == ("*",)

    @classmethod
    def from_env(
        cls,
        environ: Optional[Mapping[str, str]] = None,
        *,
        api_key_env: Optional[str] = None,
        app_id: Optional[str] = None,
        certificate_file: Optional[str] = None,
        auth_options: Optional[Mapping[str, Union[str, None]]] = None,
    ) -> Settings:
        """Read ``APP_ID``/``APP_CERTIFICATE`` (or the ``AGORA_`` names), CORS, API key, switches; ``ConfigError``.

        The credentials follow the CLI's rule (``agora_token.credentials``); ``app_id`` (``serve
        --app-id``) overrides the App ID variables, ``certificate_file`` (``serve --app-certificate-file``)
        ``APP_CERTIFICATE_FILE``, which replaces the certificate variables; ``auth_options`` (``serve
        --auth-*``, by variable name) the ``AGORA_TOKEN_AUTH_*`` variables.
        """
        from .auth import AuthSettings  # config is imported by auth

        environ = os.environ if environ is None else environ
        if app_id is not None:
            environ = {**environ, APP_ID_VARS[0]: app_id}
            try:
                check_app_id(app_id.strip())
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"--app-id is malformed: {exc}") from None
        app_id = _credential(environ, APP_ID_VARS, check_app_id)
        path = (certificate_file or environ.get(CERTIFICATE_FILE_VAR, "")).strip() or None
        if path is None:
            certificate = _credential(environ, CERTIFICATE_VARS, check_certificate)
        else:
            given = _first(environ, *CERTIFICATE_VARS)[0]
            if given:  # two sources would leave the operator guessing which one signs
                where = "--app-certificate-file" if certificate_file else CERTIFICATE_FILE_VAR
                raise ConfigError(f"give the App Certificate once: {where} or {given}, not both")
            path = os.path.abspath(path)  # workers and reloads must find it whatever their directory
            certificate = read_certificate_file(path)
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
            metrics_public=_flag(environ, METRICS_PUBLIC_VAR, False),
            app_certificate_file=path,
            certificate_reload=env_number(environ, CERTIFICATE_RELOAD_VAR, DEFAULT_CERTIFICATE_RELOAD, 0, False),
            auth=AuthSettings.from_env(environ, auth_options),
        )


REQUEST_TIMEOUT_VAR = "AGORA_TOKEN_REQUEST_TIMEOUT"
MAX_CONNECTIONS_VAR = "AGORA_TOKEN_MAX_CONNECTIONS"
MAX_HEADER_BYTES_VAR = "AGORA_TOKEN_MAX_HEADER_BYTES"
LOG_FORMAT_VAR = "AGORA_TOKEN_LOG_FORMAT"
LOG_FORMATS = ("text", "json")
#: File descriptors kept free under the connection cap: the listening socket, logs, /proc reads, imports.
FD_RESERVE = 64


def env_number(environ: Mapping[str, str], name: str, default: float, minimum: float, integer: bool) -> float:
    """The number in the variable ``name`` (``default`` when unset or empty); ``ConfigError`` naming it when it
    is not a number, or is below ``minimum``."""
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = None
    if value is None or value != value or value < minimum or value == float("inf"):
        kind = "a whole number" if integer else "a number of seconds"
        raise ConfigError(f"{name} must be {kind} of at least {minimum:g}, got {text[:40]!r}")
    return value


@dataclass(frozen=True)
class Limits:
    """Per-connection limits the server's HTTP protocol enforces (see ``protocol``)."""

    #: Seconds to receive one whole request (head and body) once it has begun; 0 turns the deadline off.
    request_timeout: float = 10.0
    #: Open connections per process; kept below the open-file limit (``effective_max_connections``).
    max_connections: int = 1000
    #: Bytes a request head (request line and headers) may take before the answer is 431.
    max_header_bytes: int = 16 * 1024

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Limits:
        """Read the ``AGORA_TOKEN_*`` limit variables (``ConfigError`` on a bad value)."""
        environ = os.environ if environ is None else environ
        return cls(
            request_timeout=env_number(environ, REQUEST_TIMEOUT_VAR, cls.request_timeout, 0, False),
            max_connections=int(env_number(environ, MAX_CONNECTIONS_VAR, cls.max_connections, 1, True)),
            max_header_bytes=int(env_number(environ, MAX_HEADER_BYTES_VAR, cls.max_header_bytes, 1024, True)),
        )

    def to_env(self) -> dict[str, str]:
        """The variables that give worker processes these limits."""
        return {
            REQUEST_TIMEOUT_VAR: repr(self.request_timeout),
            MAX_CONNECTIONS_VAR: str(self.max_connections),
            MAX_HEADER_BYTES_VAR: str(self.max_header_bytes),
        }


def log_format(environ: Optional[Mapping[str, str]] = None) -> str:
    """``AGORA_TOKEN_LOG_FORMAT``: "text" (default) or "json"."""
    environ = os.environ if environ is None else environ
    value = environ.get(LOG_FORMAT_VAR, "").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise ConfigError(f"{LOG_FORMAT_VAR} must be 'text' or 'json', got {value[:40]!r}")
    return value


def raise_open_file_limit() -> Optional[int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit; the soft limit now in force (None without ``resource``)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # An unlimited hard limit cannot be the soft one on every system: a million descriptors is plenty.
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return None if soft == resource.RLIM_INFINITY else int(soft)


def effective_max_connections(configured: int) -> int:
    """``configured``, lowered to leave ``FD_RESERVE`` descriptors free under the soft open-file limit."""
    try:
        import resource
    except ImportError:
        return configured
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, int(soft) - FD_RESERVE))
