"""Every message a kernel or a parser raises, in the project's own words: one home, read by the C
kernel, the pure kernel and the legacy parser alike, so their errors cannot drift apart (the tests
also compare them). Argument checks above the kernels word their own errors (``validation``).

Nothing here depends on the interpreter: a message says which field and what limit, the same on
every Python and on both kernels.
"""

from __future__ import annotations

from ._limits import MAX_PAYLOAD, MAX_TOKEN_LENGTH, U16_MAX

# --------------------------------------------------------------------------------------------------
# Building: a value that does not fit its wire field (docs/format.md, "Primitives")


def out_of_range(what: str, top: int) -> str:
    """An unsigned field (``what``) given a value outside ``0..top``."""
    return f"{what} must be from 0 to {top}"


def too_many(what: str) -> str:
    """A count (``what``: services, privileges) past what its u16 holds."""
    return f"{what} must be at most {U16_MAX}"


def too_long(what: str) -> str:
    """A string field whose UTF-8 form is longer than its u16 length prefix holds."""
    return f"{what} must be at most {U16_MAX} bytes of UTF-8"


def not_a(kind: str, what: str, value: object) -> str:
    """A field given a value of the wrong type: ``kind`` is "a str", "an int" or "bytes"."""
    return f"{what} must be {kind}, not {type(value).__name__}"


#: A privilege that is not an ``(id, value)`` pair (a sequence of two).
NOT_A_PAIR = "each privilege must be an (id, value) pair"
#: A 007 service that is not a ``(type, privileges, fields)`` triple.
NOT_A_SERVICE = "each service must be a (type, privileges, fields) triple"
#: What each sequence of the wire tuples must be.
_SEQUENCES = {
    "services": "a sequence of (type, privileges, fields) triples",
    "privileges": "a sequence of (id, value) pairs",
    "service fields": "a sequence of str and int",
}


def not_a_sequence(what: str, value: object) -> str:
    """``services``, ``privileges`` or ``service fields`` (``what``) given a value that is no sequence."""
    return not_a(_SEQUENCES[what], what, value)


#: A 16-bit service field (the APaaS role, an RTM2 count or type) outside what its word holds.
WORD_RANGE = "service field must be from -32768 to 65535"
#: A 006 message (salt, ts and privileges) longer than its u16 length prefix holds.
MESSAGE_006_TOO_LONG = f"006 message must be at most {U16_MAX} bytes"

# --------------------------------------------------------------------------------------------------
# Parsing: what both kernels say of a malformed 006 or 007 token

NOT_BASE64 = "token body is not standard padded base64"
NOT_ZLIB = "token body is not a valid zlib stream"
INFLATES_TOO_FAR = f"token payload inflates past {MAX_PAYLOAD} bytes"
TRUNCATED_ZLIB = "token body is a truncated zlib stream"
DATA_AFTER_ZLIB = "token body has data after its zlib stream"
SHORT_006 = "006 token is too short to hold a 32-character app id"
TOO_LONG = f"token is longer than {MAX_TOKEN_LENGTH} characters: no valid token is"


def not_a_str(token: object) -> str:
    """A token that is not a str at all."""
    return f"token must be a str, not {type(token).__name__}"


def wrong_version(version: str) -> str:
    """A token that does not start with the version asked for."""
    return f"not a {version} token: it does not start with '{version}'"


def truncated(what: str) -> str:
    """``what`` (a field's name) does not fit in what is left of the payload."""
    return f"token is truncated: {what} runs past the end of the payload"


def not_utf8(what: str) -> str:
    """A string field whose bytes are not UTF-8."""
    return f"{what} is not valid UTF-8"


# --------------------------------------------------------------------------------------------------
# Parsing the formats before 006 (``legacy``)

NOT_LEGACY = "not a DynamicKey v1-v5 or Signaling token"
LEGACY_NOT_ASCII = f"{NOT_LEGACY}: it has non-ASCII characters"
DK5_NOT_BASE64 = "DynamicKey v5 body is not valid base64"
DK5_EXTRA_NOT_UTF8 = "DynamicKey v5 extra value is not UTF-8"
DK5_TRAILING = "DynamicKey v5 has data after its last field"
DK5_SIGNATURE = "DynamicKey v5 signature is not 40 hex digits"


def dk5_truncated(what: str) -> str:
    """``what`` (a field's name) runs past the end of a DynamicKey v5."""
    return f"DynamicKey v5 is truncated: {what} runs past the end"


# --------------------------------------------------------------------------------------------------
# The C kernel's failures that no input causes (its libraries or the OS failed)


def unknown_status(status: int) -> str:
    """A C status the kernel does not know: a bug in the kernel, never the caller's input."""
    return f"the C kernel returned an unknown status {status}"


HMAC_FAILED = "OpenSSL could not compute HMAC-SHA256"
ZLIB_FAILED = "zlib failed to set up, deflate or inflate"
NO_RANDOM = "the operating system gave no random bytes"
#: The exact deflate (fp_deflate.c) refused an input within its size: a bug in it, never the input's.
EXACT_DEFLATE_REFUSED = "fp_deflate refused an input it should take"
