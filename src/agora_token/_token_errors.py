"""What both kernels (and the legacy parser) say of a malformed token: one home for the words, so
the C and the Python parser cannot drift apart (the tests also compare their errors)."""

from __future__ import annotations

from ._limits import MAX_PAYLOAD, MAX_TOKEN_LENGTH

NOT_BASE64 = "token body is not standard padded base64"
NOT_ZLIB = "token body is not a valid zlib stream"
INFLATES_TOO_FAR = f"token payload inflates past {MAX_PAYLOAD} bytes"
TRUNCATED_ZLIB = "token body is a truncated zlib stream"
DATA_AFTER_ZLIB = "token body has data after its zlib stream"
SHORT_006 = "006 token is too short to hold a 32-character app id"
TOO_LONG = f"token is longer than {MAX_TOKEN_LENGTH} characters: no valid token is"


def not_a_str(token: object) -> str:
    return f"token must be a str, not {type(token).__name__}"


def wrong_version(version: str) -> str:
    return f"not a {version} token: it does not start with '{version}'"


def truncated(what: str) -> str:
    """``what`` (a field's name) does not fit in what is left of the payload."""
    return f"token is truncated: {what} runs past the end of the payload"


def not_utf8(what: str) -> str:
    return f"{what} is not valid UTF-8"
