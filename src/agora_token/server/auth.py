"""End-user authorization's settings: where the keys come from, what a JWT must say, which claims the policy reads.

Off unless a key source is given: ``AGORA_TOKEN_AUTH_JWKS`` (an https URL, or a file, of a JSON Web Key
Set) or an HS256 shared secret (``AGORA_TOKEN_AUTH_SECRET``, or ``AGORA_TOKEN_AUTH_SECRET_FILE``). When on,
the audience and the issuer are required: a JWT meant for another service, or issued by another
identity provider, must never pass. Standard library only (the server imports PyJWT only when
authorization is on: ``bearer``, ``keys``); ``policy`` holds the rules, ``bearer`` checks the JWT.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Optional
from urllib.parse import urlsplit

from .config import ConfigError, env_number, read_small_file

AUTH_JWKS_VAR = "AGORA_TOKEN_AUTH_JWKS"
AUTH_SECRET_VAR = "AGORA_TOKEN_AUTH_SECRET"
AUTH_SECRET_FILE_VAR = "AGORA_TOKEN_AUTH_SECRET_FILE"
AUTH_AUDIENCE_VAR = "AGORA_TOKEN_AUTH_AUDIENCE"
AUTH_ISSUER_VAR = "AGORA_TOKEN_AUTH_ISSUER"
AUTH_LEEWAY_VAR = "AGORA_TOKEN_AUTH_LEEWAY"
AUTH_CLAIMS_VAR = "AGORA_TOKEN_AUTH_CLAIMS"
AUTH_JWKS_CACHE_VAR = "AGORA_TOKEN_AUTH_JWKS_CACHE"
AUTH_JWKS_MIN_INTERVAL_VAR = "AGORA_TOKEN_AUTH_JWKS_MIN_INTERVAL"

#: An HS256 key shorter than the hash (RFC 7518, 3.2) can be guessed offline from one token.
MIN_SECRET_BYTES = 32
#: A secret file holds a secret; anything larger is a mistake.
MAX_SECRET_FILE_BYTES = 4096


@dataclass(frozen=True)
class ClaimNames:
    """The claims the policy reads, by role; an identity provider that says ``uid`` instead of ``sub`` renames one."""

    #: The user: the requested uid, user account, RTM or Chat user id must equal it.
    sub: str = "sub"
    #: Shell-style patterns of the channels the user may have tokens for (``room-*``).
    agora_channels: str = "agora_channels"
    #: ``"publisher"`` lets the user publish; anything else (or nothing) means subscriber.
    agora_role: str = "agora_role"
    #: ``true`` lets the user ask for uid 0 (a token any user can join with).
    agora_uid_any: str = "agora_uid_any"
    #: ``true`` lets the user have the Chat app token (Chat's REST API, as the app).
    agora_chat_app: str = "agora_chat_app"

    @classmethod
    def parse(cls, text: str, where: str) -> ClaimNames:
        """``"sub=user_id,agora_channels=rooms"``: the default name, "=", the claim your JWTs carry."""
        names = {f.name for f in fields(cls)}
        renamed: dict[str, str] = {}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            default, sep, claim = (s.strip() for s in item.partition("="))
            if not sep or default not in names or not claim:
                raise ConfigError(
                    f"{where} takes DEFAULT=CLAIM pairs (DEFAULT one of {', '.join(sorted(names))}), got {item[:60]!r}"
                )
            renamed[default] = claim
        return cls(**renamed)


def _is_url(jwks: str) -> bool:
    """Whether a JWKS setting is a URL (fetched) rather than a file's path (read at start)."""
    return jwks.lower().startswith(("http://", "https://"))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AuthSettings:
    """What a JWT must satisfy for the server to read its claims (``bearer``), and how keys are found (``keys``)."""

    #: The JWT's ``aud`` must include this.
    audience: str
    #: The JWT's ``iss`` must be this.
    issuer: str
    #: A JSON Web Key Set: an https URL (http only on loopback) or a file.
    jwks: Optional[str] = None
    #: An HS256 shared secret (instead of ``jwks``); never logged.
    secret: Optional[str] = field(default=None, repr=False)
    #: Seconds of clock difference allowed on ``exp``, ``nbf`` and ``iat``.
    leeway: float = 30.0
    claims: ClaimNames = ClaimNames()
    #: A fetched key set is refreshed (in the background) once it is this many seconds old.
    jwks_cache: float = 300.0
    #: An unknown ``kid`` makes the server fetch the key set again at most once per this many seconds.
    jwks_min_interval: float = 30.0

    def __post_init__(self) -> None:
        if (self.jwks is None) == (self.secret is None):
            raise ConfigError(f"authorization needs one key source: {AUTH_JWKS_VAR} or {AUTH_SECRET_VAR}, not both")
        for value, var in ((self.audience, AUTH_AUDIENCE_VAR), (self.issuer, AUTH_ISSUER_VAR)):
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{var} is required when authorization is on: a JWT for another audience or from "
                                  "another issuer must not pass")  # fmt: skip
        if self.secret is not None and len(self.secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"the HS256 secret must be at least {MIN_SECRET_BYTES} bytes (it has "
                              f"{len(self.secret.encode())})")  # fmt: skip
        if self.jwks_url is not None:
            parts = urlsplit(self.jwks_url)
            if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname or "")):
                raise ConfigError(f"{AUTH_JWKS_VAR} must be an https URL (http only on loopback): whoever can change "
                                  "the keys in transit can sign any JWT")  # fmt: skip
        for name in ("leeway", "jwks_cache", "jwks_min_interval"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ConfigError(f"auth {name} must be a number of seconds, 0 or more")

    @property
    def jwks_url(self) -> Optional[str]:
        """``jwks`` when it is a URL (fetched, cached, refreshed), else None (a file, read at start)."""
        if self.jwks is not None and _is_url(self.jwks):
            return self.jwks
        return None

    @classmethod
    def from_env(cls, environ: Mapping[str, str], overrides: Optional[Mapping[str, Optional[str]]] = None
                 ) -> Optional[AuthSettings]:  # fmt: skip
        """The settings from the ``AGORA_TOKEN_AUTH_*`` variables (``overrides``: the same names, from options);
        None when no key source is given (authorization off), ``ConfigError`` when they do not add up."""
        env = {**environ, **{k: v for k, v in (overrides or {}).items() if v is not None}}

        def get(name: str) -> str:
            return env.get(name, "").strip()

        jwks, secret_file = get(AUTH_JWKS_VAR), get(AUTH_SECRET_FILE_VAR)
        secret = env.get(AUTH_SECRET_VAR, "") or None
        if secret_file:
            if secret is not None:
                raise ConfigError(f"give the HS256 secret once: {AUTH_SECRET_VAR} or {AUTH_SECRET_FILE_VAR}")
            secret = _read_secret(secret_file)
        if not jwks and secret is None:
            given = [n for n in (AUTH_AUDIENCE_VAR, AUTH_ISSUER_VAR, AUTH_CLAIMS_VAR) if get(n)]
            if given:  # asking for authorization and silently getting none is worse than not starting
                raise ConfigError(f"{given[0]} is set but no key is: set {AUTH_JWKS_VAR} or {AUTH_SECRET_VAR}")
            return None
        if jwks and not _is_url(jwks):
            jwks = os.path.abspath(jwks)
        claims = ClaimNames.parse(get(AUTH_CLAIMS_VAR), AUTH_CLAIMS_VAR)
        return cls(
            audience=get(AUTH_AUDIENCE_VAR),
            issuer=get(AUTH_ISSUER_VAR),
            jwks=jwks or None,
            secret=secret,
            leeway=_seconds(env, AUTH_LEEWAY_VAR, cls.leeway),
            claims=claims,
            jwks_cache=_seconds(env, AUTH_JWKS_CACHE_VAR, cls.jwks_cache),
            jwks_min_interval=_seconds(env, AUTH_JWKS_MIN_INTERVAL_VAR, cls.jwks_min_interval),
        )


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    return env_number(env, name, default, 0, False)


def _read_secret(path: str) -> str:
    return read_small_file(path, "the HS256 secret", MAX_SECRET_FILE_BYTES)


__all__ = ["AuthSettings", "ClaimNames"]
