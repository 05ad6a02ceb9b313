"""A token endpoint inside your own FastAPI app, for the user who is signed in.

    pip install fastapi uvicorn pyjwt   # or: pip install '.[examples]' from a checkout
    uvicorn examples.fastapi_app:app --port 8000
    curl -H "Authorization: Bearer $JWT" 'localhost:8000/token?channel=demo'

The token's uid is the signed-in user's, never one the client names: a client that chooses its uid can
join as anyone, and with uid 0 as any user at all. Here the user comes from a JWT your identity
provider issued (``sub`` is the numeric user id), checked by PyJWT with a shared secret; with sessions
or another provider, replace ``current_user`` and keep the endpoint. The builder checks every other
argument; its ValueError/TypeError names the bad one and becomes a 400 (never a 500, never the
certificate).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _credentials, when run as a script

import jwt  # noqa: E402
from _credentials import credentials  # noqa: E402
from fastapi import Depends, FastAPI, HTTPException  # noqa: E402
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer  # noqa: E402

import agora_token as at  # noqa: E402

APP_ID, APP_CERTIFICATE = credentials()
#: Your identity provider's HS256 secret (or use its public keys: jwt.PyJWKClient); the fallback is a demo.
JWT_SECRET = os.environ.get("EXAMPLE_JWT_SECRET", "demo-secret-for-the-example-only-0123456789")
app = FastAPI(title="my app")


class User(NamedTuple):
    uid: int
    may_publish: bool


def current_user(bearer: HTTPAuthorizationCredentials = Depends(HTTPBearer())) -> User:  # noqa: B008
    """The signed-in user, from the request's JWT; 401 without a valid one."""
    try:
        claims = jwt.decode(bearer.credentials, JWT_SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
        uid = int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError):
        raise HTTPException(status_code=401, detail="sign in again", headers={"WWW-Authenticate": "Bearer"}) from None
    return User(uid=uid, may_publish=claims.get("role") == "publisher")


@app.get("/token")
def rtc_token(channel: str, expire: int = 3600, user: User = Depends(current_user)) -> dict[str, object]:  # noqa: B008
    """An RTC token for ``channel`` and the signed-in user, with its lifetime."""
    try:
        token = at.build_rtc_token(
            APP_ID, APP_CERTIFICATE, channel, uid=user.uid, role="publisher" if user.may_publish else "subscriber",
            expire=expire,
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return {"token": token, "uid": user.uid, "expire": at.DEFAULT_EXPIRE if expire == 0 else expire}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
