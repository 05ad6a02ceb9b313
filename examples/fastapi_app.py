"""A token endpoint inside your own FastAPI app.

    pip install fastapi uvicorn     # or: pip install '.[examples]' from a checkout
    uvicorn examples.fastapi_app:app --port 8000
    curl 'localhost:8000/token?channel=demo&uid=42'

The builder checks every argument; its ValueError/TypeError names the bad one, so the endpoint
turns it into a 400 with that message (never a 500, never the certificate).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _credentials, when run as a script

from _credentials import credentials  # noqa: E402
from fastapi import FastAPI, HTTPException  # noqa: E402

import agora_token as at  # noqa: E402

APP_ID, APP_CERTIFICATE = credentials()
app = FastAPI(title="my app")


@app.get("/token")
def rtc_token(
    channel: str, uid: Optional[int] = None, account: Optional[str] = None, role: str = "publisher", expire: int = 3600
) -> dict[str, object]:
    """An RTC token for ``channel`` and a uid or account, with its lifetime, for the client."""
    try:
        token = at.build_rtc_token(
            APP_ID, APP_CERTIFICATE, channel, uid=uid, account=account, role=role, expire=expire
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    return {"token": token, "expire": at.DEFAULT_EXPIRE if expire == 0 else expire}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=8000)
