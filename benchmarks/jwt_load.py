"""User authorization for the load benchmarks: a key, the server's settings for it, and a JWT per request.

``sign_asks(alg, asks, directory)`` makes a key for ``alg`` (HS256: a secret; RS256, ES256, EdDSA: a key
pair whose public half it writes as a JWKS file in ``directory``), signs for every ask a JWT whose
claims allow exactly that request (``sub`` its user, its channel's pattern, publisher, uid 0 and the
Chat app token allowed), sets it as the ask's Authorization header, and returns the environment that
turns user authorization on in ``agora-token serve``. Used by server_load.py (``--jwt``) and jwt_check.py.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import jwt

AUDIENCE = "agora-token-bench"
ISSUER = "https://id.bench.example/"
SECRET = "benchmark-secret-" + "x" * 48


def make_key(alg: str) -> tuple[Any, Any]:
    """(signing key, verifying JWK or None for HS256) for ``alg``."""
    if alg == "HS256":
        return SECRET, None
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    private: Any
    if alg == "RS256":
        private, cls = rsa.generate_private_key(public_exponent=65537, key_size=2048), RSAAlgorithm
    elif alg == "ES256":
        private, cls = ec.generate_private_key(ec.SECP256R1()), ECAlgorithm
    else:
        private, cls = ed25519.Ed25519PrivateKey.generate(), OKPAlgorithm
    return private, {**cls.to_jwk(private.public_key(), as_dict=True), "kid": "bench", "use": "sig"}


def claims(user: str, lifetime: int = 3600) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": user, "aud": AUDIENCE, "iss": ISSUER, "iat": now, "exp": now + lifetime,
            "agora_channels": ["room-*"], "agora_role": "publisher", "agora_uid_any": True,
            "agora_chat_app": True}  # fmt: skip


def server_env(alg: str, jwk: Any, directory: str) -> dict[str, str]:
    """The variables that turn user authorization on for this key."""
    env = {"AGORA_TOKEN_AUTH_AUDIENCE": AUDIENCE, "AGORA_TOKEN_AUTH_ISSUER": ISSUER}
    if jwk is None:
        env["AGORA_TOKEN_AUTH_SECRET"] = SECRET
    else:
        path = os.path.join(directory, "jwks.json")
        with open(path, "w") as handle:
            json.dump({"keys": [jwk]}, handle)
        env["AGORA_TOKEN_AUTH_JWKS"] = path
    return env


def sign_asks(alg: str, asks: list[Any], directory: str) -> dict[str, str]:
    """Give each ask (``server_load.Ask``) the Authorization header of a JWT for its user; the server's env."""
    key, jwk = make_key(alg)
    headers = {"kid": "bench"} if jwk is not None else None
    for ask in asks:
        token = jwt.encode(claims(ask.user or "app"), key, algorithm=alg, headers=headers)
        ask.headers = f"Authorization: Bearer {token}\r\n".encode()
    return server_env(alg, jwk, directory)
