"""The end user's JWT, from ``Authorization: Bearer <JWT>`` to verified claims (PyJWT does the JOSE).

``BearerAuth.claims(header)`` returns the claims of a JWT whose signature, algorithm, ``exp``, ``nbf``,
``aud`` and ``iss`` all hold, and raises ``Unauthorized`` with a reason from ``REASONS`` (a bounded set:
the refusal metric's labels) otherwise. Whatever a client sends, the answer is a claims dict or
``Unauthorized`` (``KeysUnavailable`` only when no key set was ever fetched): never another exception,
so never a 500. Neither the JWT nor any part of it appears in a message.

A client sends the same JWT with each of its requests (its RTC token, its RTM token, each renewal),
and checking a signature costs tens of times what a token costs: a JWT that passed is remembered
(by its exact bytes, so nothing about it can differ) for ``CACHE_SECONDS`` at most and never past its
own ``exp``; ``nbf`` and ``exp`` are checked again at each use. A key removed from the key set stops
verifying remembered JWTs within ``CACHE_SECONDS``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
from typing import Any, Optional

import jwt

from .auth import AuthSettings
from .keys import ACCEPTED_ALGORITHMS, KeySource, UnknownKey

#: The longest Authorization header read: a JWT with a few claims is under 2 KB.
MAX_AUTHORIZATION_BYTES = 8192
#: Why a JWT was refused (401): the refusal metric's label values.
REASONS = (
    "missing", "too_large", "malformed", "algorithm", "unknown_key", "bad_signature", "expired", "not_yet_valid",
    "wrong_audience", "wrong_issuer", "missing_claim",
)  # fmt: skip
#: How long a JWT that passed is remembered, at most, and how many are.
CACHE_SECONDS = 60.0
CACHE_SIZE = 4096
# A compact JWS: three base64url parts (a JWE has five, and is refused as malformed).
_COMPACT = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
#: PyJWT's verdicts, most specific first (each is an InvalidTokenError), as (class, reason, message).
_VERDICTS: tuple[tuple[type[Exception], str, str], ...] = (
    (jwt.ExpiredSignatureError, "expired", "the JWT has expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid", "the JWT is not valid yet"),
    (jwt.InvalidAudienceError, "wrong_audience", "the JWT is for another audience"),
    (jwt.InvalidIssuerError, "wrong_issuer", "the JWT is from another issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim", "the JWT lacks a required claim (exp, iss and aud are)"),
    (jwt.InvalidSignatureError, "bad_signature", "the JWT's signature does not verify"),
    (jwt.InvalidAlgorithmError, "algorithm", "the JWT's algorithm is not allowed"),
    (jwt.InvalidKeyError, "algorithm", "the JWT's algorithm does not fit its key"),
)


class Unauthorized(Exception):
    """The request carries no usable JWT: ``reason`` (one of ``REASONS``) and a message safe to send."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _header(token: bytes) -> dict[str, Any]:
    """The JOSE header's fields, to find the key (``alg``, ``kid``); PyJWT reads it again when it verifies.

    Read here rather than with ``jwt.get_unverified_header``, which decodes and checks all three parts:
    that would double the cost of every check.
    """
    segment = token.partition(b".")[0]
    try:
        head = json.loads(base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4)))
    except Exception:  # not base64url, not UTF-8, not JSON, too deep...
        raise Unauthorized("malformed", "the JWT's header cannot be read") from None
    if not isinstance(head, dict):
        raise Unauthorized("malformed", "the JWT's header is not a JSON object")
    return head


class BearerAuth:
    """Checks ``Authorization: Bearer <JWT>`` with ``settings`` and the keys of ``keys``."""

    def __init__(self, settings: AuthSettings, keys: KeySource) -> None:
        self.settings = settings
        self.keys = keys
        # Every registered claim that is present is checked too (iat in the future, for one).
        self._options = {"require": ["exp", "iss", "aud"], "verify_signature": True}
        #: JWTs that passed: token bytes -> (claims, remembered until, not before), oldest first.
        self._passed: dict[bytes, tuple[dict[str, Any], float, float]] = {}

    async def claims(self, header: Optional[bytes]) -> dict[str, Any]:
        """The verified claims of the header's JWT; ``Unauthorized`` (or ``keys.KeysUnavailable``) otherwise."""
        if header is None:
            raise Unauthorized("missing", "this server needs 'Authorization: Bearer <JWT>' from your identity provider")
        if len(header) > MAX_AUTHORIZATION_BYTES:
            raise Unauthorized("too_large", f"the Authorization header is longer than {MAX_AUTHORIZATION_BYTES} bytes")
        scheme, _, credentials = header.strip().partition(b" ")
        token = credentials.strip()
        remembered = self._passed.get(token)
        if remembered is not None and scheme.lower() == b"bearer":
            claims, until, not_before = remembered
            now = time.time()
            if not_before <= now < until:
                return claims
            self._passed.pop(token, None)  # expired (or not yet valid): checked in full below
        if scheme.lower() != b"bearer" or not _COMPACT.fullmatch(token):
            raise Unauthorized("malformed", "the Authorization header is not 'Bearer <JWT>' with a signed JWT")
        text = token.decode("ascii")  # the pattern let through ASCII only
        head = _header(token)
        alg, kid = head.get("alg"), head.get("kid")
        if not isinstance(alg, str) or alg not in ACCEPTED_ALGORITHMS:
            raise Unauthorized("algorithm", "the JWT's algorithm is not allowed")
        if kid is not None and not isinstance(kid, str):
            raise Unauthorized("malformed", "the JWT's kid is not a string")
        try:
            key = await self.keys.find(kid, alg)
        except UnknownKey as exc:
            raise Unauthorized(exc.reason, str(exc)) from None
        settings = self.settings
        try:
            claims = jwt.decode(
                text, key.key, algorithms=[alg], audience=settings.audience, issuer=settings.issuer,
                leeway=settings.leeway, options=self._options,  # type: ignore[arg-type]
            )  # fmt: skip
        except Exception as exc:
            for kind, reason, message in _VERDICTS:
                if isinstance(exc, kind):
                    raise Unauthorized(reason, message) from None
            # DecodeError (a payload that is no JSON object, a bad iat...) and anything unforeseen: the JWT,
            # not the server, is at fault.
            raise Unauthorized("malformed", "the JWT cannot be read") from None
        if not isinstance(claims, dict):  # pragma: no cover  (PyJWT refuses a payload that is no object)
            raise Unauthorized("malformed", "the JWT's payload is not an object")
        self._remember(token, claims)
        return claims

    def _remember(self, token: bytes, claims: dict[str, Any]) -> None:
        now, leeway = time.time(), self.settings.leeway
        exp, nbf = claims.get("exp"), claims.get("nbf")
        # PyJWT checked that both are numbers when present; exp is required.
        until = min(now + CACHE_SECONDS, float(exp) + leeway) if isinstance(exp, (int, float)) else now
        not_before = float(nbf) - leeway if isinstance(nbf, (int, float)) else float("-inf")
        if until <= now:
            return
        if len(self._passed) >= CACHE_SIZE:
            with contextlib.suppress(StopIteration, RuntimeError):  # another thread emptied or changed it
                self._passed.pop(next(iter(self._passed)), None)  # the oldest goes
        self._passed[token] = (claims, until, not_before)


__all__ = ["MAX_AUTHORIZATION_BYTES", "REASONS", "BearerAuth", "Unauthorized"]
