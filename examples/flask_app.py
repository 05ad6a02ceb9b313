"""A token endpoint in a Flask app, for the user who is logged in.

pip install flask               # or: pip install '.[examples]' from a checkout
python examples/flask_app.py
curl -c jar -d user_id=42 localhost:5000/login && curl -b jar 'localhost:5000/token?channel=demo'

The token's user is the logged-in user (Flask's signed session), never one the client names: a client
that chooses its uid can join as anyone, and with uid 0 as any user at all. ``/login`` stands in for
your own login view; keep ``/token`` and where it reads the user from.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _credentials, when run as a script

from _credentials import credentials  # noqa: E402
from flask import Flask, jsonify, request, session  # noqa: E402

import agora_token as at  # noqa: E402

APP_ID, APP_CERTIFICATE = credentials()
app = Flask(__name__)
# Signs the session cookie: set your own, secret, in production.
app.secret_key = os.environ.get("EXAMPLE_SESSION_SECRET", "demo-session-secret-for-the-example-only")


@app.post("/login")
def login() -> tuple[Any, int]:
    """A stand-in for your login view (it checks no password!): remembers the user in the session."""
    user_id = request.form.get("user_id", "")
    if not user_id.isdigit():
        return jsonify(error="user_id must be a number"), 400
    session["user_id"] = int(user_id)
    return jsonify(user_id=int(user_id)), 200


@app.get("/token")
def rtc_token() -> tuple[Any, int]:
    """An RTC token for ``?channel=`` and the logged-in user; 401 when nobody is, 400 with the reason on bad input."""
    user_id = session.get("user_id")
    if user_id is None:
        return jsonify(error="log in first"), 401
    expire = request.args.get("expire", "")
    try:
        if expire and not expire.isdigit():
            raise ValueError(f"expire must be a number of seconds, got {expire!r}")
        token = at.build_rtc_token(
            APP_ID, APP_CERTIFICATE, request.args.get("channel", ""), uid=user_id,
            role=request.args.get("role", "publisher"), expire=int(expire) if expire else at.DEFAULT_EXPIRE,
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(token=token, uid=user_id), 200


if __name__ == "__main__":
    app.run(port=5000)
