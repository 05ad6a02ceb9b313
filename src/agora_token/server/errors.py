"""The one shape of every error answer: ``{"error": text, "message": text, "status": code}``.

agora-token-service answers ``{"message": …, "status": 400}`` for a bad parameter and ``{"error": …,
"status": 400}`` when a token cannot be built; a client of it reads one key or the other. Every error
here carries both, with the same text, and the status, whichever layer answers: the routes, the
middleware (401, 403, 500), the unconfigured app (503) and the HTTP protocol (400, 408, 431, 503).
Standard library only: the protocol and the unconfigured app use it without Starlette.
"""

from __future__ import annotations

import json
from typing import Union


def error_body(status: int, text: str) -> dict[str, Union[str, int]]:
    """The JSON object of an error answer."""
    return {"error": text, "message": text, "status": status}


def error_json(status: int, text: str) -> bytes:
    """``error_body`` serialised, compactly."""
    return json.dumps(error_body(status, text), separators=(",", ":")).encode()
