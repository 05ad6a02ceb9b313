"""End-user authorization: who may get which token, checked over real HTTP on 127.0.0.1.

Keys are made here with ``cryptography`` (RSA, EC P-256, Ed25519) and an HS256 secret; a JSON Web Key Set
is served by a loopback HTTP server each test starts and stops. Every case of the refusal table
(docs/server/authorization.md) is one request here: the status, the WWW-Authenticate challenge, the
message and the refusal metric. 2,000 malformed Authorization headers: 401 or 403 each, never a 5xx.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import http.server
import json
import random
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, Optional

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")
jwt = pytest.importorskip("jwt")

from agora_token import AccessToken2, ServiceChat, ServiceRtc, ServiceRtm  # noqa: E402
from agora_token.server import ConfigError, Settings  # noqa: E402
from agora_token.server.auth import AuthSettings, ClaimNames  # noqa: E402
from agora_token.server.metrics import AUTH_REFUSALS  # noqa: E402
from agora_token.server.openapi import build_openapi  # noqa: E402

from .common import APP_ID, CERT  # noqa: E402
from .processes import SERVE, WAIT, run, server_env, serving, stop  # noqa: E402
from .test_server import Captured, error, logs, metric_values, ok, running  # noqa: E402, F401  (logs: a fixture)

AUDIENCE = "agora-token-tests"
ISSUER = "https://id.example.com/"
SECRET = "s" * 64  # HS512 below wants 64 bytes too (PyJWT warns under that)
API_KEY = "backend-key-0123456789"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(sub: str = "42", **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": sub, "aud": AUDIENCE, "iss": ISSUER, "iat": now, "exp": now + 600, "agora_channels": ["room-*"]}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


class Keys:
    """An RSA, an EC P-256 and an Ed25519 key pair, with their public JWKs (kids "rsa", "ec", "ed")."""

    def __init__(self) -> None:
        pytest.importorskip("cryptography")
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

        self.private = {
            "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1()),
            "ed": ed25519.Ed25519PrivateKey.generate(),
        }
        self.algorithm = {"rsa": "RS256", "ec": "ES256", "ed": "EdDSA"}

    def jwk(self, kid: str) -> dict[str, Any]:
        from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

        cls = {"rsa": RSAAlgorithm, "ec": ECAlgorithm, "ed": OKPAlgorithm}[kid.split("-")[0]]
        private = self.private.get(kid) or self.private[kid.split("-")[0]]
        data: dict[str, Any] = cls.to_jwk(private.public_key(), as_dict=True)
        return {**data, "kid": kid, "use": "sig"}

    def jwks(self, *kids: str) -> dict[str, Any]:
        return {"keys": [self.jwk(kid) for kid in kids]}

    def sign(self, claims: dict[str, Any], kid: str = "rsa", alg: Optional[str] = None) -> str:
        kind = kid.split("-")[0]
        return jwt.encode(claims, self.private[kind], algorithm=alg or self.algorithm[kind], headers={"kid": kid})

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return (
            self.private["rsa"]
            .public_key()
            .public_bytes(  # type: ignore[no-any-return]
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


class JwksServer:
    """A JSON Web Key Set on a loopback HTTP server: ``document`` is what it serves, ``hits`` how often it was asked."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document: Optional[dict[str, Any]] = document  # None: answer 503 (the provider is down)
        self.hits = 0
        self.delay = 0.0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (http.server's name)
                owner.hits += 1
                time.sleep(owner.delay)
                body = json.dumps(owner.document).encode() if owner.document is not None else b"down"
                self.send_response(200 if owner.document is not None else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(WAIT)


@contextlib.contextmanager
def jwks_server(document: dict[str, Any]) -> Iterator[JwksServer]:
    server = JwksServer(document)
    try:
        yield server
    finally:
        server.close()


def auth_settings(**changes: Any) -> AuthSettings:
    return AuthSettings(**{"audience": AUDIENCE, "issuer": ISSUER, **changes})


def settings_with(auth: AuthSettings, **changes: Any) -> Settings:
    return Settings(app_id=APP_ID, app_certificate=CERT, auth=auth, **changes)


@pytest.fixture(scope="module")
def jwks(keys: Keys) -> Iterator[JwksServer]:
    with jwks_server(keys.jwks("rsa", "ec", "ed")) as server:
        yield server


@pytest.fixture(scope="module")
def server(jwks: JwksServer) -> Iterator[str]:
    """A server with user authorization from the JWKS URL, an API key for backends, /metrics public."""
    auth = auth_settings(jwks=jwks.url, jwks_min_interval=0.5)
    with running(settings_with(auth, api_key=API_KEY, metrics_public=True)) as (url, _):
        yield url


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with httpx.Client(timeout=WAIT) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refusals(client: Any, url: str) -> dict[str, float]:
    values = metric_values(client.get(url + "/metrics").text)
    return {r: values.get(f'agora_token_auth_refusals_total{{reason="{r}"}}', 0.0) for r in AUTH_REFUSALS}


def refused(client: Any, url: str, path: str, headers: dict[str, str], status: int, reason: str,
            says: str = "") -> str:  # fmt: skip
    """Ask for ``path``; check the refusal's status, challenge, message and metric; return the message."""
    before = refusals(client, url)
    response = client.get(url + path, headers=headers)
    message = error(response, status)
    challenge = response.headers.get("www-authenticate", "")
    if status == 401:
        expected = 'Bearer realm="agora-token"' + ("" if reason == "missing" else ', error="invalid_token"')
        assert challenge == expected
    elif status == 403:
        assert challenge == 'Bearer realm="agora-token", error="insufficient_scope"'
    assert says in message, message
    after = refusals(client, url)
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} == {reason: 1}
    return message


def rtc_of(response: Any) -> tuple[str, str, bool]:
    parsed = AccessToken2.parse(ok(response)["rtcToken"])
    assert parsed.verify(CERT)
    [service] = parsed.services
    assert isinstance(service, ServiceRtc)
    return service.channel_name, service.uid, len(service.privileges) == 4


# --------------------------------------------------------------------------------------------------
# the refusal table


def test_a_user_gets_the_tokens_their_claims_allow(server: str, client: Any, keys: Keys, backend: str) -> None:
    token = keys.sign(claims_for("42", agora_role="publisher"))
    assert rtc_of(client.get(f"{server}/rtc/room-1/publisher/uid/42/", headers=bearer(token))) == ("room-1", "42", True)
    subscriber = keys.sign(claims_for("alice"), "ec")
    assert rtc_of(client.get(f"{server}/rtc/room-9/subscriber/userAccount/alice/", headers=bearer(subscriber))) == (
        "room-9", "alice", False)  # fmt: skip
    ed = keys.sign(claims_for("bob"), "ed")
    login = AccessToken2.parse(ok(client.get(f"{server}/rtm/bob/", headers=bearer(ed)))["rtmToken"])
    assert isinstance(login.services[0], ServiceRtm) and login.services[0].user_id == "bob"
    chat = AccessToken2.parse(ok(client.get(f"{server}/chat/account/bob/", headers=bearer(ed)))["chatToken"])
    assert isinstance(chat.services[0], ServiceChat) and chat.services[0].user_id == "bob"
    request = {"tokenType": "rtc", "channel": "room-2", "uid": "42", "role": "publisher"}
    body = ok(client.post(f"{server}/getToken", headers=bearer(token), json=request))
    assert AccessToken2.parse(body["token"]).services[0].channel_name == "room-2"
    both = ok(client.get(f"{server}/rte/room-3/subscriber/uid/42/", headers=bearer(token)))
    assert set(both) == {"rtcToken", "rtmToken"}
    anyone = keys.sign(claims_for("42", agora_uid_any=True))
    assert rtc_of(client.get(f"{server}/rtc/room-1/subscriber/uid/0/", headers=bearer(anyone))) == ("room-1", "", False)
    app = keys.sign(claims_for("ops", agora_chat_app=True))
    ok(client.get(f"{server}/chat/app/", headers=bearer(app)))


CASES = [
    # (case, path, headers or a function of keys giving them, status, reason, words of the message)
    ("no Authorization header", "/rtc/room-1/subscriber/uid/42/", {}, 401, "missing", "Bearer <JWT>"),
    ("not Bearer", "/rtc/room-1/subscriber/uid/42/", {"Authorization": "Basic abc"}, 401, "malformed", ""),
    ("not a JWT", "/rtc/room-1/subscriber/uid/42/", bearer("garbage"), 401, "malformed", ""),
    ("header over 8 KB", "/rtm/42/", bearer("a" * 9000), 401, "too_large", "8192 bytes"),
    ("expired", "/rtm/42/", lambda k: bearer(k.sign(claims_for(exp=int(time.time()) - 120))), 401, "expired",
     "expired"),
    ("not yet valid", "/rtm/42/", lambda k: bearer(k.sign(claims_for(nbf=int(time.time()) + 600))), 401,
     "not_yet_valid", "not valid yet"),
    ("wrong audience", "/rtm/42/", lambda k: bearer(k.sign(claims_for(aud="another-service"))), 401,
     "wrong_audience", "another audience"),
    ("wrong issuer", "/rtm/42/", lambda k: bearer(k.sign(claims_for(iss="https://evil.example/"))), 401,
     "wrong_issuer", "another issuer"),
    ("no exp", "/rtm/42/", lambda k: bearer(k.sign(claims_for(exp=None))), 401, "missing_claim", ""),
    ("alg none", "/rtm/42/", lambda k: bearer(b64url(b'{"alg":"none","typ":"JWT"}') + "." +
                                              b64url(json.dumps(claims_for()).encode()) + "."), 401, "algorithm", ""),
    ("HS256 keyed with the RSA public key", "/rtm/42/", lambda k: bearer(hs256_with(k.public_pem(), "rsa")), 401,
     "algorithm", ""),
    ("RS256 signed by another key", "/rtm/42/", lambda k: bearer(resigned(k)), 401, "bad_signature", ""),
    ("ES256 claimed for the RSA kid", "/rtm/42/", lambda k: bearer(jwt.encode(claims_for(), k.private["ec"],
     algorithm="ES256", headers={"kid": "rsa"})), 401, "algorithm", "not one its key allows"),
    ("unknown kid", "/rtm/42/", lambda k: bearer(jwt.encode(claims_for(), k.private["rsa"], algorithm="RS256",
                                                            headers={"kid": "nobody"})), 401, "unknown_key", ""),
    ("another user", "/rtc/room-1/subscriber/uid/43/", lambda k: bearer(k.sign(claims_for("42"))), 403, "user",
     "user '43' is not the signed-in user"),
    ("another RTM user", "/rtm/alice/", lambda k: bearer(k.sign(claims_for("42"))), 403, "user", "'alice'"),
    ("RTE's RTM user another", "/rte/room-1/subscriber/uid/42/alice/", lambda k: bearer(k.sign(claims_for("42"))),
     403, "user", "'alice'"),
    ("another channel", "/rtc/lobby/subscriber/uid/42/", lambda k: bearer(k.sign(claims_for("42"))), 403,
     "channel", "channel 'lobby' is not allowed for this user"),
    ("no channel claim", "/rtc/room-1/subscriber/uid/42/", lambda k: bearer(k.sign(claims_for("42",
     agora_channels=None))), 403, "channel", "no 'agora_channels' claim"),
    ("channels claim a string", "/rtc/room-1/subscriber/uid/42/", lambda k: bearer(k.sign(claims_for("42",
     agora_channels="room-*"))), 403, "channel", "a list of channel patterns"),
    ("publisher without the role", "/rtc/room-1/publisher/uid/42/", lambda k: bearer(k.sign(claims_for("42"))),
     403, "role", "role 'publisher' is not allowed"),
    ("host with role subscriber", "/rtc/room-1/host/uid/42/", lambda k: bearer(k.sign(claims_for("42",
     agora_role="subscriber"))), 403, "role", ""),
    ("uid 0", "/rtc/room-1/subscriber/uid/0/", lambda k: bearer(k.sign(claims_for("42"))), 403, "uid_any",
     "uid 0 (any user)"),
    ("uid 0 with agora_uid_any 'true'", "/rtc/room-1/subscriber/uid/0/", lambda k: bearer(k.sign(claims_for("42",
     agora_uid_any="true"))), 403, "uid_any", ""),
    ("Chat app token", "/chat/app/", lambda k: bearer(k.sign(claims_for("42"))), 403, "chat_app",
     "Chat app token is not allowed"),
    ("no sub", "/rtm/42/", lambda k: bearer(k.sign(claims_for(None))), 403, "user", "'sub' claim must name the user"),
]  # fmt: skip


def hs256_with(key: bytes, kid: str) -> str:
    """An HS256 JWT keyed with ``key`` (the RSA public key's PEM: the classic algorithm-confusion attack)."""
    signing_input = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + b64url(
        json.dumps(claims_for()).encode())  # fmt: skip
    return signing_input + "." + b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def resigned(keys: Keys) -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims_for(), stranger, algorithm="RS256", headers={"kid": "rsa"})  # type: ignore[no-any-return]


@pytest.mark.parametrize("case, path, headers, status, reason, says", CASES, ids=[c[0] for c in CASES])
def test_refusal_table(server: str, client: Any, keys: Keys, case: str, path: str, headers: Any, status: int,
                       reason: str, says: str) -> None:  # fmt: skip
    refused(client, server, path, headers(keys) if callable(headers) else headers, status, reason, says)


def test_leeway_lets_a_small_clock_difference_pass(server: str, client: Any, keys: Keys) -> None:
    now = int(time.time())
    token = keys.sign(claims_for(exp=now - 10, nbf=now + 10))  # within the 30 s leeway either way
    ok(client.get(f"{server}/rtm/42/", headers=bearer(token)))


def test_the_api_key_bypasses_the_user_policy_and_probes_stay_open(server: str, client: Any, keys: Keys) -> None:
    key = {"Authorization": f"Bearer {API_KEY}"}
    assert rtc_of(client.get(f"{server}/rtc/anything/publisher/uid/0/", headers=key)) == ("anything", "", True)
    ok(client.get(f"{server}/chat/app/", headers=key))
    for path in ("/ping", "/healthz", "/openapi.json"):
        assert client.get(server + path).status_code == 200
    document = client.get(server + "/openapi.json").json()
    assert document["components"]["securitySchemes"]["userJwt"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["userJwt"]["description"],
    }  # fmt: skip
    assert document["paths"]["/rtm/{uid}/"]["get"]["security"] == [{"apiKey": []}, {"userJwt": []}]
    assert "403" in document["paths"]["/rtm/{uid}/"]["get"]["responses"]


def test_a_jwt_never_opens_metrics(jwks: JwksServer, client: Any, keys: Keys) -> None:
    with running(settings_with(auth_settings(jwks=jwks.url), api_key=API_KEY)) as (url, _):
        token = keys.sign(claims_for("42", agora_role="publisher"))
        assert "API key" in error(client.get(url + "/metrics", headers=bearer(token)), 401)
        assert client.get(url + "/metrics", headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200
    doc = build_openapi(api_key=True, user_jwt=True)
    assert doc["paths"]["/metrics"]["get"]["security"] == [{"apiKey": []}]


def test_the_jwt_never_reaches_a_log_line_or_an_answer(server: str, client: Any, keys: Keys,
                                                       logs: Captured) -> None:  # noqa: F811  # fmt: skip
    token = keys.sign(claims_for("42"))
    answers = [
        client.get(f"{server}/rtc/room-1/subscriber/uid/42/", headers=bearer(token)),
        client.get(f"{server}/rtc/room-1/subscriber/uid/43/", headers=bearer(token)),
        client.get(f"{server}/rtm/{token}/", headers=bearer(token)),
        client.get(f"{server}/rtm/42/?expiry={token}", headers=bearer(token)),
        client.get(f"{server}/rtm/42/", headers=bearer(token[:-3])),
    ]
    for answer in answers:
        assert answer.status_code < 500 and token not in answer.text and token[:40] not in answer.text
    text = "\n".join(logs.lines)
    assert "[REDACTED]" in text and token not in text and token.split(".")[2] not in text
    assert token.split(".")[1] not in text  # not even the claims


# --------------------------------------------------------------------------------------------------
# keys: rotation by kid, single flight, an outage


def test_a_new_kid_is_fetched_at_most_once_per_interval_and_one_fetch_serves_all(keys: Keys, client: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    keys.private["rsa-2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    new = jwt.encode(claims_for(), keys.private["rsa-2"], algorithm="RS256", headers={"kid": "rsa-2"})
    interval = 2.0

    async def at_once(url: str, count: int) -> list[int]:
        async with httpx.AsyncClient(timeout=WAIT, limits=httpx.Limits(max_connections=count)) as pool:
            answers = await asyncio.gather(*(pool.get(url + "/rtm/42/", headers=bearer(new)) for _ in range(count)))
        return [answer.status_code for answer in answers]

    with jwks_server(keys.jwks("rsa")) as provider:
        auth = auth_settings(jwks=provider.url, jwks_min_interval=interval)
        with running(settings_with(auth, metrics_public=True)) as (url, _):
            assert provider.hits == 1  # fetched at start
            ok(client.get(url + "/rtm/42/", headers=bearer(keys.sign(claims_for()))))
            time.sleep(interval + 0.1)
            # The provider rotates, and the new key is not published yet: 30 requests at once with its kid
            # share one fetch (which takes 0.3 s), and bad tokens cannot make the server ask again.
            provider.delay = 0.3
            started = time.monotonic()
            assert asyncio.run(at_once(url, 30)) == [401] * 30
            assert time.monotonic() - started < interval and provider.hits == 2
            provider.delay = 0.0
            provider.document = keys.jwks("rsa", "rsa-2")  # now it is published
            refused(client, url, "/rtm/42/", bearer(new), 401, "unknown_key")  # within the interval: not fetched
            assert provider.hits == 2
            time.sleep(interval + 0.1)
            ok(client.get(url + "/rtm/42/", headers=bearer(new)))  # an unknown kid after the interval: fetched
            assert provider.hits == 3
            ok(client.get(url + "/rtm/42/", headers=bearer(keys.sign(claims_for()))))  # the old key still works
            assert provider.hits == 3


def test_cached_keys_keep_working_through_an_outage(keys: Keys, client: Any, logs: Captured) -> None:  # noqa: F811
    with jwks_server(keys.jwks("ec")) as provider:
        auth = auth_settings(jwks=provider.url, jwks_cache=0.2, jwks_min_interval=0.1)
        with running(settings_with(auth)) as (url, _):
            token = keys.sign(claims_for(), "ec")
            ok(client.get(url + "/rtm/42/", headers=bearer(token)))
            provider.document = None  # the identity provider answers 503 from now on
            for i in range(5):
                time.sleep(0.25)  # the cache is stale: each new JWT's check starts a refresh in the background
                ok(client.get(url + "/rtm/42/", headers=bearer(keys.sign(claims_for(jti=str(i)), "ec"))))
            assert provider.hits >= 3
    assert any("keeping the 1 keys fetched before" in line for line in logs.lines)


def test_without_keys_yet_the_answer_is_503_but_a_malformed_header_is_still_401(keys: Keys, client: Any) -> None:
    with jwks_server(keys.jwks("rsa")) as provider:
        provider.document = None
        with running(settings_with(auth_settings(jwks=provider.url, jwks_min_interval=0.1), metrics_public=True)
                     ) as (url, _):  # fmt: skip
            time.sleep(0.15)
            response = client.get(url + "/rtm/42/", headers=bearer(keys.sign(claims_for())))
            assert "keys are not available yet" in error(response, 503) and response.headers["retry-after"] == "5"
            error(client.get(url + "/rtm/42/", headers=bearer("x.y.z")), 401)
            assert refusals(client, url)["keys_unavailable"] == 1


def test_hs256_secret_jwks_file_and_renamed_claims(tmp_path: Any, keys: Keys, client: Any) -> None:
    names = ClaimNames.parse("sub=user_id, agora_channels=rooms", "test")
    with running(settings_with(auth_settings(secret=SECRET, claims=names))) as (url, _):
        token = jwt.encode({**claims_for(None, user_id="7", rooms=["*"]), "sub": "someone"}, SECRET, algorithm="HS256")
        assert rtc_of(client.get(f"{url}/rtc/any/subscriber/uid/7/", headers=bearer(token))) == ("any", "7", False)
        error(client.get(f"{url}/rtc/any/subscriber/uid/8/", headers=bearer(token)), 403)
        hs512 = jwt.encode(claims_for("7"), SECRET, algorithm="HS512")
        error(client.get(f"{url}/rtm/7/", headers=bearer(hs512)), 401)  # the secret verifies HS256 only
        assert SECRET not in repr(auth_settings(secret=SECRET))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks("ed")))
    with running(settings_with(auth_settings(jwks=str(path)))) as (url, _):
        ok(client.get(f"{url}/rtm/42/", headers=bearer(keys.sign(claims_for(), "ed"))))
        error(client.get(f"{url}/rtm/42/", headers=bearer(keys.sign(claims_for(), "rsa"))), 401)


# --------------------------------------------------------------------------------------------------
# 2,000 malformed Authorization headers


def malformed_headers(keys: Keys, count: int = 2000) -> list[bytes]:
    """Hostile and broken Authorization values: random bytes, JWT-shaped junk, mutated real JWTs, odd algs."""
    rng = random.Random(20240622)
    real = keys.sign(claims_for("42"))
    head, body, sig = real.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
    out: list[bytes] = []
    makers = [
        lambda: bytes(rng.choice(range(0x20, 0x7F)) for _ in range(rng.randrange(0, 200))),
        lambda: b"Bearer " + bytes(rng.choice(range(0x21, 0x7F)) for _ in range(rng.randrange(0, 300))),
        lambda: b"Bearer " + "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 400))).encode(),
        lambda: ("Bearer " + ".".join(b64url(rng.randbytes(rng.randrange(0, 80))) for _ in range(3))).encode(),
        lambda: (
            "Bearer "
            + b64url(
                json.dumps(
                    {
                        "alg": rng.choice(
                            ["none", "HS256", "RS256", "ES256", "EdDSA", "PS512", "XYZ", None, 5, ["RS256"]]
                        ),
                        "kid": rng.choice(["rsa", "ec", "ed", None, 3, ""]),
                    }
                ).encode()
            )
            + "."
            + body
            + "."
            + sig
        ).encode(),  # fmt: skip
        lambda: (
            "Bearer "
            + head
            + "."
            + b64url(
                rng.choice([b"[]", b"null", b"1", b'"x"', b"{", b'{"exp":"soon"}', b'{"aud":5,"iss":[],"exp":1e400}'])
            )
            + "."
            + sig
        ).encode(),  # fmt: skip
        lambda: ("Bearer " + real[: rng.randrange(0, len(real))] + rng.choice(["", ".", "..", "%", "\t"])).encode(),
        lambda: ("bearer  " + real.replace(rng.choice(alphabet[:62]), rng.choice(alphabet[:62]), 1)).encode(),
        lambda: (
            rng.choice(["Bearer", "BEARER", "Token", "Bearer:", ""]) + " " + real + rng.choice(["", " x", ".x", ".a.b"])
        ).encode(),  # fmt: skip
        lambda: b"Bearer " + "é".join(real.split(".")).encode("latin-1"),
        lambda: b"Bearer " + b"eyJ" * rng.randrange(1, 4000),
    ]
    while len(out) < count:
        value = rng.choice(makers)().strip(b" \t")
        if value and value != ("Bearer " + real).encode():
            out.append(value)
    return out


def test_two_thousand_malformed_headers_are_each_401_or_403_never_5xx(keys: Keys, jwks: JwksServer) -> None:
    values = malformed_headers(keys)
    statuses: dict[int, int] = {}
    with running(settings_with(auth_settings(jwks=jwks.url))) as (url, _), httpx.Client(timeout=WAIT) as client:
        for value in values:
            response = client.get(url + "/rtc/room-1/publisher/uid/42/", headers=[(b"Authorization", value)])
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code in (401, 403), (value[:200], response.status_code, response.text)
    assert sum(statuses.values()) == 2000 and set(statuses) <= {401, 403}


# --------------------------------------------------------------------------------------------------
# the policy alone, and the metric's labels


def test_policy_rules_refuse_claims_of_the_wrong_type() -> None:
    from agora_token.server.policy import RULES, Ask, Refused, check

    good = {"sub": "42", "agora_channels": ["room-*", "lobby"], "agora_role": "publisher"}
    check(good, Ask(("42",), "lobby", publisher=True))
    check(good, Ask(("42",), "room-7"))
    for claims, ask, rule in [
        ({**good, "sub": 42}, Ask(("42",)), "user"),
        ({**good, "sub": ""}, Ask(("42",)), "user"),
        ({**good, "agora_channels": ["room-*", 5]}, Ask(("42",), "room-1"), "channel"),
        ({**good, "agora_channels": []}, Ask(("42",), "room-1"), "channel"),
        (good, Ask(("42",), "Room-1"), "channel"),  # case-sensitive, as channel names are
        (good, Ask(("42",), "room"), "channel"),
        ({**good, "agora_role": ["publisher"]}, Ask(("42",), "lobby", publisher=True), "role"),
        ({**good, "agora_uid_any": 1}, Ask(("0",), "lobby"), "uid_any"),
        ({**good, "agora_chat_app": "yes"}, Ask(chat_app=True), "chat_app"),
        (good, Ask(("42", "43"), "lobby"), "user"),
    ]:
        with pytest.raises(Refused) as info:
            check(claims, ask)
        assert info.value.rule == rule and info.value.rule in RULES


def test_a_remembered_jwt_still_expires_and_is_remembered_by_its_exact_bytes() -> None:
    from agora_token.server.bearer import BearerAuth, Unauthorized
    from agora_token.server.keys import load_keys

    settings = auth_settings(secret=SECRET, leeway=0)
    bearer_auth = BearerAuth(settings, load_keys(settings))
    token = jwt.encode(claims_for(exp=int(time.time()) + 2), SECRET, algorithm="HS256")
    header = f"Bearer {token}".encode()
    assert asyncio.run(bearer_auth.claims(header))["sub"] == "42"
    assert asyncio.run(bearer_auth.claims(header))["sub"] == "42"  # remembered
    tampered = f"Bearer {token[:-2]}{'A' if token[-2] != 'A' else 'B'}{token[-1]}".encode()
    with pytest.raises(Unauthorized):
        asyncio.run(bearer_auth.claims(tampered))
    time.sleep(2.1)
    with pytest.raises(Unauthorized) as info:
        asyncio.run(bearer_auth.claims(header))
    assert info.value.reason == "expired"


def test_the_refusal_metric_has_a_label_for_every_reason_and_rule() -> None:
    from agora_token.server.bearer import REASONS
    from agora_token.server.policy import RULES

    assert set(AUTH_REFUSALS) == set(REASONS) | set(RULES) | {"keys_unavailable"}
    assert len(AUTH_REFUSALS) == len(set(AUTH_REFUSALS))


# --------------------------------------------------------------------------------------------------
# configuration


@pytest.mark.parametrize(
    "env, says",
    [
        ({"AGORA_TOKEN_AUTH_JWKS": "https://id.example/jwks"}, "AGORA_TOKEN_AUTH_AUDIENCE is required"),
        ({"AGORA_TOKEN_AUTH_JWKS": "https://id.example/jwks", "AGORA_TOKEN_AUTH_AUDIENCE": "a"},
         "AGORA_TOKEN_AUTH_ISSUER is required"),
        ({"AGORA_TOKEN_AUTH_SECRET": "short", "AGORA_TOKEN_AUTH_AUDIENCE": "a", "AGORA_TOKEN_AUTH_ISSUER": "i"},
         r"at least 32 bytes \(it has 5\)"),
        ({"AGORA_TOKEN_AUTH_JWKS": "http://id.example/jwks", "AGORA_TOKEN_AUTH_AUDIENCE": "a",
          "AGORA_TOKEN_AUTH_ISSUER": "i"}, "must be an https URL"),
        ({"AGORA_TOKEN_AUTH_JWKS": "https://x/j", "AGORA_TOKEN_AUTH_SECRET": SECRET, "AGORA_TOKEN_AUTH_AUDIENCE": "a",
          "AGORA_TOKEN_AUTH_ISSUER": "i"}, "one key source"),
        ({"AGORA_TOKEN_AUTH_AUDIENCE": "a"}, "AGORA_TOKEN_AUTH_AUDIENCE is set but no key is"),
        ({"AGORA_TOKEN_AUTH_SECRET": SECRET, "AGORA_TOKEN_AUTH_AUDIENCE": "a", "AGORA_TOKEN_AUTH_ISSUER": "i",
          "AGORA_TOKEN_AUTH_CLAIMS": "subject=uid"}, "takes DEFAULT=CLAIM pairs"),
        ({"AGORA_TOKEN_AUTH_SECRET": SECRET, "AGORA_TOKEN_AUTH_AUDIENCE": "a", "AGORA_TOKEN_AUTH_ISSUER": "i",
          "AGORA_TOKEN_AUTH_LEEWAY": "soon"}, "AGORA_TOKEN_AUTH_LEEWAY must be a number of seconds"),
    ],
)  # fmt: skip
def test_auth_settings_refused(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says) as info:
        Settings.from_env({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, **env})
    assert SECRET not in str(info.value)


def test_auth_is_off_by_default_and_on_with_a_key() -> None:
    assert Settings.from_env({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT}).auth is None
    on = Settings.from_env({"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "AGORA_TOKEN_AUTH_JWKS": "http://[::1]:9/j",
                            "AGORA_TOKEN_AUTH_AUDIENCE": "a", "AGORA_TOKEN_AUTH_ISSUER": "i",
                            "AGORA_TOKEN_AUTH_CLAIMS": "sub=uid"}).auth  # fmt: skip
    assert on is not None and on.jwks_url == "http://[::1]:9/j" and on.claims.sub == "uid"


def test_serve_refuses_to_start_without_audience_and_issuer(tmp_path: Any) -> None:
    done = run([sys.executable, "-c", SERVE, "--auth-jwks", "https://id.example/jwks"],
               server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT))  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("agora-token serve: AGORA_TOKEN_AUTH_AUDIENCE is required when authorization is on")
    assert len(done.stderr.splitlines()) == 1
    path = tmp_path / "jwks.json"
    path.write_text('{"keys": []}')
    done = run([sys.executable, "-c", SERVE, "--auth-jwks", str(path), "--auth-audience", "a", "--auth-issuer", "i"],
               server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT))  # fmt: skip
    assert done.returncode == 2 and "the JSON Web Key Set file" in done.stderr and "has no key" in done.stderr


@pytest.mark.thread_unsafe
def test_serve_workers_take_the_auth_options(tmp_path: Any, keys: Keys) -> None:
    """``serve --workers 2 --auth-*``: the options reach both workers (through the environment)."""
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks("rsa")))
    args = ["--workers", "2", "--auth-jwks", str(path), "--auth-audience", AUDIENCE, "--auth-issuer", ISSUER,
            "--auth-claims", "agora_role=role"]  # fmt: skip
    with serving(args, server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT)) as (proc, url):
        token = keys.sign(claims_for("42", role="publisher"))
        for _ in range(6):  # fresh connections: both workers answer
            headers = {**bearer(token), "Connection": "close"}
            assert rtc_of(httpx.get(f"{url}/rtc/room-1/publisher/uid/42/", headers=headers, timeout=WAIT))[2]
            assert httpx.get(f"{url}/rtc/room-1/publisher/uid/43/", headers=headers, timeout=WAIT).status_code == 403
            assert httpx.get(f"{url}/rtm/42/", headers={"Connection": "close"}, timeout=WAIT).status_code == 401
        _, stderr = stop(proc)
    assert proc.returncode == 0 and token not in stderr and "user authorization on" in stderr


# --------------------------------------------------------------------------------------------------
# which published keys are used


def test_a_key_set_keeps_only_public_signing_keys_of_a_known_type(keys: Keys) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    from agora_token.server.keys import MIN_RSA_BITS, key_from_jwk, keys_from_jwks

    rsa_jwk, ec_jwk = keys.jwk("rsa"), keys.jwk("ec")
    assert key_from_jwk(rsa_jwk) is not None and key_from_jwk(ec_jwk) is not None
    small = rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS // 2)
    refused = {
        "a shared secret": {"kty": "oct", "k": b64url(b"k" * 32), "kid": "oct"},
        "a private key": {**rsa_jwk, "d": b64url(b"private")},
        "an encryption key": {**rsa_jwk, "use": "enc"},
        "a kid that is no string": {**rsa_jwk, "kid": 7},
        "an unknown key type": {**rsa_jwk, "kty": "XYZ"},
        "an EC key on an unknown curve": {**ec_jwk, "crv": "P-999"},
        "an algorithm its type does not allow": {**rsa_jwk, "alg": "HS256"},
        "a broken modulus": {**rsa_jwk, "n": "!!"},
        "an RSA key under the minimum size": {**RSAAlgorithm.to_jwk(small.public_key(), as_dict=True), "kid": "s"},
        "not an object": ["kty", "RSA"],
    }
    for what, jwk in refused.items():
        assert key_from_jwk(jwk) is None, what
    pinned = key_from_jwk({**rsa_jwk, "alg": "RS384"})  # a key that names its algorithm allows that one alone
    assert pinned is not None and pinned.algorithms == frozenset({"RS384"})
    usable = keys_from_jwks({"keys": [rsa_jwk, *refused.values()]})
    assert list(usable) == ["rsa"]
    for document in ([rsa_jwk], {"keys": "rsa"}, {"no keys": []}):
        with pytest.raises(ValueError, match="not a JSON Web Key Set"):
            keys_from_jwks(document)


@pytest.mark.parametrize(
    "content, says",
    [
        (None, "cannot read the HS256 secret file"),
        (b"s" * 70_000, "is larger than"),
        (b"\xff" * 40, "is not UTF-8 text"),
    ],
)
def test_a_secret_file_that_cannot_be_used_is_refused_naming_it(tmp_path: Any, content: Optional[bytes],
                                                                 says: str) -> None:  # fmt: skip
    path = tmp_path / "secret"
    if content is not None:
        path.write_bytes(content)
    env = {"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "AGORA_TOKEN_AUTH_SECRET_FILE": str(path),
           "AGORA_TOKEN_AUTH_AUDIENCE": "a", "AGORA_TOKEN_AUTH_ISSUER": "i"}  # fmt: skip
    with pytest.raises(ConfigError, match=says) as info:
        Settings.from_env(env)
    assert str(path) in str(info.value)
    with pytest.raises(ConfigError, match="give the HS256 secret once"):
        Settings.from_env({**env, "AGORA_TOKEN_AUTH_SECRET": SECRET})


@pytest.mark.parametrize(
    "content, says",
    [
        (b"\xff\xfe not utf-8", "unusable: not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "unusable: not JSON"),  # deeper than json's recursion
        (b" " * (1 << 20) + b"{}", "unusable: the key set is larger than 1048576 bytes"),
        (b'{"keys": "none"}', 'unusable: not a JSON Web Key Set (an object with a "keys" list)'),
    ],
    ids=["not-utf8", "too-deep", "too-large", "no-key-set"],
)
def test_a_jwks_file_that_cannot_be_used_is_refused_in_our_words(tmp_path: Any, content: bytes, says: str) -> None:
    from agora_token.server.keys import load_keys

    path = tmp_path / "jwks.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_keys(auth_settings(jwks=str(path)))
    assert str(info.value) == f"the JSON Web Key Set file {str(path)!r} is {says}"
