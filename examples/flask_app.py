"""A token endpoint in a Flask app.

pip install flask               # or: pip install '.[examples]' from a checkout
python examples/flask_app.py
curl 'localhost:5000/token?channel=demo&account=alice&role=subscriber'
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _credentials, when run as a script

from _credentials import credentials  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402

import agora_token as at  # noqa: E402

APP_ID, APP_CERTIFICATE = credentials()
app = Flask(__name__)


def _int_arg(name: str) -> Optional[int]:
    # Query values are text: convert here, so the builder gets an int or nothing and names the argument.
    value = request.args.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise ValueError(f"{name} must be a number, got {value!r}")
    return int(value)


@app.get("/token")
def rtc_token() -> tuple[Any, int]:
    """An RTC token for ``?channel=`` and ``?uid=`` or ``?account=``; 400 with the reason on bad input."""
    try:
        expire = _int_arg("expire")
        token = at.build_rtc_token(
            APP_ID, APP_CERTIFICATE, request.args.get("channel", ""), uid=_int_arg("uid"),
            account=request.args.get("account"), role=request.args.get("role", "publisher"),
            expire=at.DEFAULT_EXPIRE if expire is None else expire,
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(token=token), 200


if __name__ == "__main__":
    app.run(port=5000)
