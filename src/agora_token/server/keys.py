"""The keys that verify JWTs: an HS256 secret, a JSON Web Key Set from a file, or one fetched from a URL.

Each key carries the algorithms its type allows, and only those (``ALGORITHMS``): an RSA key verifies
RS256/384/512 and PS256/384/512, an EC key the ES algorithm of its curve, an Ed25519 or Ed448 key
EdDSA, the shared secret HS256. So a JWT can never choose ``none``, or an HMAC keyed with a public
key. A key set holds public keys only: a symmetric ("oct") key in it is skipped, as is a key for
encryption (``use`` other than ``sig``), a private key, or an RSA key under 2,048 bits.

``RemoteKeys`` fetches the set in a thread (never on the event loop) with a timeout and a size cap,
caches it, refreshes it in the background once it is ``jwks_cache`` seconds old, and fetches it again
for an unknown ``kid`` at most once per ``jwks_min_interval`` seconds, one fetch at a time however many
requests wait for it (so bad tokens cannot make the server hammer the identity provider). A failed
fetch keeps the keys it has: they go on working through the provider's outage.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional, Union

from jwt import PyJWK
from jwt.exceptions import InvalidKeyError, PyJWKError

from .._version import __version__
from .auth import AuthSettings
from .config import ConfigError

log = logging.getLogger("agora_token.server")

#: The algorithms each kind of key verifies (JWK ``kty``, and ``crv`` where the curve decides).
ALGORITHMS: Mapping[tuple[str, Optional[str]], frozenset[str]] = {
    ("RSA", None): frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
    ("EC", "P-521"): frozenset({"ES512"}),
    ("OKP", "Ed25519"): frozenset({"EdDSA"}),
    ("OKP", "Ed448"): frozenset({"EdDSA"}),
    ("oct", None): frozenset({"HS256"}),
}
#: Every algorithm some key may verify: a JWT naming any other (``none`` first of all) is refused unread.
ACCEPTED_ALGORITHMS = frozenset().union(*ALGORITHMS.values())
MIN_RSA_BITS = 2048
#: A key set is a few keys of a few hundred bytes; a document this large is not one.
MAX_JWKS_BYTES = 1 << 20
#: Keys read from one set at most: more is a mistake, and each costs a parse.
MAX_KEYS = 64
#: Seconds for one fetch of the key set (connect and read).
FETCH_TIMEOUT = 5.0


@dataclass(frozen=True)
class Key:
    """One verification key: its ``kid`` (None if it has none), what it verifies with, the algorithms it allows."""

    kid: Optional[str]
    key: Any
    algorithms: frozenset[str]


class UnknownKey(Exception):
    """No key fits the JWT: its ``kid`` is unknown, or its algorithm is not one the key allows."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class KeysUnavailable(Exception):
    """No key set has ever been fetched: the identity provider has not answered yet."""


def key_from_jwk(data: object) -> Optional[Key]:
    """The ``Key`` of one JWK, or None when it is not one to verify JWTs with (see the module's rules)."""
    if not isinstance(data, Mapping):
        return None
    kty, crv, use, alg, kid = (data.get(name) for name in ("kty", "crv", "use", "alg", "kid"))
    if (
        kty == "oct"
        or "d" in data
        or (use is not None and use != "sig")
        or (kid is not None and not isinstance(kid, str))
    ):
        return None  # a shared secret, a private key (published by mistake), a key for encryption
    allowed = ALGORITHMS.get((kty, None) if kty == "RSA" else (kty, crv)) if isinstance(kty, str) else None
    if allowed is None:
        return None
    if alg is not None:  # a key that names its algorithm allows that one alone
        if alg not in allowed:
            return None
        allowed = frozenset({alg})
    try:
        jwk = PyJWK(dict(data), algorithm=sorted(allowed)[0])
    except (PyJWKError, InvalidKeyError, ValueError, TypeError, KeyError):  # PyJWT raises either for a bad key
        return None
    if kty == "RSA" and getattr(jwk.key, "key_size", 0) < MIN_RSA_BITS:
        return None
    return Key(kid, jwk.key, allowed)


def keys_from_jwks(document: object) -> dict[Optional[str], Key]:
    """The usable keys of a JWKS document (``{"keys": [...]}``), by ``kid``; ``ValueError`` when it is no key set."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('not a JSON Web Key Set (an object with a "keys" list)')
    keys: dict[Optional[str], Key] = {}
    for data in document["keys"][:MAX_KEYS]:
        key = key_from_jwk(data)
        if key is not None and key.kid not in keys:
            keys[key.kid] = key
    if not keys:
        raise ValueError("the key set has no key to verify JWTs with (RSA, EC or Ed25519/Ed448, for signing)")
    return keys


def _pick(keys: Mapping[Optional[str], Key], kid: Optional[str]) -> Optional[Key]:
    """The key for ``kid``; without a kid, the one key of the set (a JWT cannot pick among several by guessing)."""
    if kid is not None:
        return keys.get(kid)
    if len(keys) == 1:
        return next(iter(keys.values()))
    return None


def _check_algorithm(key: Key, alg: str) -> Key:
    if alg not in key.algorithms:
        raise UnknownKey("algorithm", "the JWT's algorithm is not one its key allows")
    return key


class StaticKeys:
    """Keys known at start: the HS256 secret, or a JWKS file."""

    def __init__(self, keys: Mapping[Optional[str], Key]) -> None:
        self.keys = dict(keys)

    async def find(self, kid: Optional[str], alg: str) -> Key:
        """The key for a JWT's ``kid`` and ``alg``; ``UnknownKey`` if none fits."""
        key = _pick(self.keys, kid)
        if key is None:
            raise UnknownKey("unknown_key", "no key for this JWT (its kid is unknown)")
        return _check_algorithm(key, alg)

    async def start(self) -> None:
        """Nothing to load: the keys were read at start."""

    def close(self) -> None:
        """Nothing to release."""


def _fetch(url: str) -> dict[Optional[str], Key]:
    """GET the key set (no redirects: an https URL must not lead elsewhere), parse it; raises on any failure."""
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(), urllib.request.HTTPSHandler(),
                    urllib.request.HTTPErrorProcessor(), urllib.request.HTTPDefaultErrorHandler()):  # fmt: skip
        opener.add_handler(handler)
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": f"agora-token/{__version__}"})  # fmt: skip
    with opener.open(request, timeout=FETCH_TIMEOUT) as answer:
        return parse_jwks(answer.read(MAX_JWKS_BYTES + 1))


def parse_jwks(body: bytes) -> dict[Optional[str], Key]:
    """The usable keys of a JWKS document's bytes, fetched or read (at most ``MAX_JWKS_BYTES`` + 1 of
    them); ``ValueError`` in our words when they are too many, not JSON, or no key set."""
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError(f"the key set is larger than {MAX_JWKS_BYTES} bytes")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, nested too deep: json's words vary by version
        raise ValueError("not JSON") from None
    return keys_from_jwks(document)


class RemoteKeys:
    """A key set fetched from ``url``: cached, refreshed in the background, refetched for an unknown ``kid``."""

    def __init__(self, url: str, cache_seconds: float, min_interval: float) -> None:
        self.url = url
        self.cache_seconds = cache_seconds
        self.min_interval = min_interval
        self.keys: Optional[dict[Optional[str], Key]] = None
        self.fetched_at = float("-inf")  # monotonic time of the last successful fetch
        self.tried_at = float("-inf")  # of the last fetch started
        self.fetches = 0  # fetches started, for the tests and the log
        self._lock = threading.Lock()
        self._pending: Optional[concurrent.futures.Future[None]] = None
        # One thread: fetches never run side by side, and never on an event loop.
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="agora-token-jwks")

    def _refresh(self, force: bool) -> Optional[concurrent.futures.Future[None]]:
        """The fetch under way, or a new one if ``force`` or the cache is stale and the interval allows; else None."""
        with self._lock:
            if self._pending is not None:
                return self._pending
            now = time.monotonic()
            stale = now - self.fetched_at >= self.cache_seconds
            if not (force or stale) or now - self.tried_at < self.min_interval:
                return None
            self.tried_at = now
            self.fetches += 1
            self._pending = self._pool.submit(self._fetch_and_keep)
            return self._pending

    def _fetch_and_keep(self) -> None:
        try:
            keys = _fetch(self.url)
        except Exception as exc:  # the provider is down or answers nonsense: keep what we have
            kept = f"keeping the {len(self.keys)} keys fetched before" if self.keys else "no keys yet"
            log.warning("fetching the JSON Web Key Set from %s failed (%s: %s); %s", self.url, type(exc).__name__,
                        str(exc)[:200], kept)  # fmt: skip
        else:
            self.keys, self.fetched_at = keys, time.monotonic()
            log.info("fetched the JSON Web Key Set from %s: %d keys", self.url, len(keys))
        finally:
            with self._lock:
                self._pending = None

    async def start(self) -> None:
        """Fetch the key set once at start-up (a failure is logged; requests then wait for the next try)."""
        pending = self._refresh(force=True)
        if pending is not None:
            await asyncio.wrap_future(pending)

    async def find(self, kid: Optional[str], alg: str) -> Key:
        """The key for a JWT's ``kid`` and ``alg``: ``UnknownKey`` if none fits, ``KeysUnavailable`` if no key set
        was ever fetched."""
        keys = self.keys
        key = _pick(keys, kid) if keys is not None else None
        if key is None:
            pending = self._refresh(force=True)  # an unknown kid: perhaps a new key (at most once per interval)
            if pending is not None:
                await asyncio.wrap_future(pending)
            keys = self.keys
            if keys is None:
                raise KeysUnavailable("the identity provider's key set has not been fetched yet")
            key = _pick(keys, kid)
            if key is None:
                raise UnknownKey("unknown_key", "no key for this JWT (its kid is unknown)")
        else:
            self._refresh(force=False)  # stale keys: refreshed in the background, used meanwhile
        return _check_algorithm(key, alg)

    def close(self) -> None:
        """Stop the fetch thread (a fetch under way finishes on its own)."""
        self._pool.shutdown(wait=False)


#: Where a JWT's key is found.
KeySource = Union[StaticKeys, RemoteKeys]


def load_keys(settings: AuthSettings) -> KeySource:
    """The key source ``settings`` name (``StaticKeys`` or ``RemoteKeys``); ``ConfigError`` for a bad JWKS file."""
    if settings.secret is not None:
        return StaticKeys({None: Key(None, settings.secret.encode(), ALGORITHMS[("oct", None)])})
    assert settings.jwks is not None
    if settings.jwks_url is not None:
        return RemoteKeys(settings.jwks_url, settings.jwks_cache, settings.jwks_min_interval)
    try:
        with open(settings.jwks, "rb") as handle:
            return StaticKeys(parse_jwks(handle.read(MAX_JWKS_BYTES + 1)))
    except OSError as exc:
        raise ConfigError(f"cannot read the JSON Web Key Set file {settings.jwks!r}: {exc.strerror or exc}") from None
    except ValueError as exc:  # parse_jwks's words
        raise ConfigError(f"the JSON Web Key Set file {settings.jwks!r} is unusable: {exc}") from None


__all__ = [
    "ACCEPTED_ALGORITHMS", "ALGORITHMS", "Key", "KeySource", "KeysUnavailable", "RemoteKeys", "StaticKeys",
    "UnknownKey", "keys_from_jwks", "load_keys",
]  # fmt: skip
