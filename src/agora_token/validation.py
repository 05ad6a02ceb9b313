"""Every argument check, in one place; the model, builders, CLI and server all call these.

Each check returns the (possibly normalised) value or raises ``TypeError``/``ValueError`` whose
message starts with the argument's name. No check ever puts a certificate's value in a message.
"""

from __future__ import annotations

import re
from typing import Union

from ._limits import U16_MAX, U32_MAX

#: Agora caps every token and privilege at 24 hours (SPEC §10).
MAX_LIFETIME = 24 * 3600
#: Longest documented channel name and user account, in UTF-8 bytes (SPEC §10).
MAX_CHANNEL_BYTES = 64
MAX_ACCOUNT_BYTES = 255
#: Anything above this passed as a lifetime is surely an absolute Unix time (year 2001 onwards).
_LOOKS_ABSOLUTE = 1_000_000_000

_HEX32 = re.compile(r"[0-9a-fA-F]{32}\Z")
_CHANNEL = re.compile(r"[a-zA-Z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}|~,]*\Z")

Uid = Union[int, str]


def _type_error(name: str, expected: str, value: object) -> TypeError:
    return TypeError(f"{name} must be {expected}, not {type(value).__name__}")


def require_int(name: str, value: object) -> int:
    """An int proper: a bool or a float is refused rather than read as a number."""
    if type(value) is not int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(name, "an int", value)
        value = int(value)
    return value


def require_bool(name: str, value: object) -> bool:
    """A bool proper: any other value (the string "false" is truthy) is refused, not read as one."""
    if type(value) is not bool:
        raise _type_error(name, "a bool", value)
    return value


def shown(value: int) -> str:
    """An int as an error message shows it: a huge one by its size (its digits could be thousands,
    and Python 3.11+ refuses to print more than 4,300 of them)."""
    if -(10**20) < value < 10**20:
        return str(value)
    return f"an integer of {value.bit_length()} bits"


def check_int(name: str, value: object, low: int, high: int) -> int:
    """An int (not a bool) within ``low..high``."""
    value = require_int(name, value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {shown(value)}")
    return value


def check_u16(name: str, value: object) -> int:
    """An int that fits an unsigned 16-bit wire field."""
    return check_int(name, value, 0, U16_MAX)


def check_u32(name: str, value: object) -> int:
    """An int that fits an unsigned 32-bit wire field."""
    return check_int(name, value, 0, U32_MAX)


def check_text(name: str, value: object, max_bytes: int = U16_MAX) -> str:
    """A str whose UTF-8 form fits ``max_bytes`` (by default a wire string's 65,535)."""
    if type(value) is not str:
        if not isinstance(value, str):
            raise _type_error(name, "a str", value)
        value = str(value)
    # A char is at most 4 UTF-8 bytes: short strings need no encoding to be checked.
    if len(value) * 4 > max_bytes:
        try:
            size = len(value.encode())
        except UnicodeEncodeError:
            raise ValueError(f"{name} is not encodable as UTF-8") from None
        if size > max_bytes:
            raise ValueError(f"{name} is {size} bytes of UTF-8; the limit is {max_bytes}")
    elif not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError(f"{name} is not encodable as UTF-8") from None
    return value


def is_hex32(value: object) -> bool:
    """Whether ``value`` is a str of exactly 32 hexadecimal characters."""
    return isinstance(value, str) and _HEX32.match(value) is not None


def check_hex32(name: str, value: object) -> str:
    """An App ID or App Certificate: exactly 32 hexadecimal characters."""
    if not isinstance(value, str):
        raise _type_error(name, "a str of 32 hex characters", value)
    if not _HEX32.match(value):
        # Never echo the value: this check also guards the certificate.
        if len(value) == 32:
            raise ValueError(f"{name} must be 32 hexadecimal characters (0-9, a-f); it has 32, not all of them hex")
        raise ValueError(f"{name} must be 32 hexadecimal characters (got {len(value)} characters)")
    return value


def check_app_id(value: object) -> str:
    """The App ID from Agora Console."""
    return check_hex32("app_id", value)


def check_certificate(value: object) -> str:
    """The App Certificate from Agora Console (never echoed)."""
    return check_hex32("app_certificate", value)


# Channel names already found valid: a token server mints many tokens per channel. Bounded.
GOOD_CHANNELS: set = set()
GOOD_CHANNELS_MAX = 4096


def check_channel(value: object, name: str = "channel_name") -> str:
    """A channel name as Agora documents it: 1..64 bytes of the allowed characters."""
    if type(value) is str and value in GOOD_CHANNELS:
        return value
    value = check_text(name, value)
    if not value:
        raise ValueError(f"{name} must not be empty")
    if len(value) > MAX_CHANNEL_BYTES or not _CHANNEL.match(value):
        if len(value.encode()) > MAX_CHANNEL_BYTES:
            raise ValueError(f"{name} is {len(value.encode())} bytes; Agora allows at most {MAX_CHANNEL_BYTES}")
        bad = next(ch for ch in value if not _CHANNEL.match(ch))
        raise ValueError(f"{name} contains {bad!r}, which Agora does not allow in a channel name")
    if len(GOOD_CHANNELS) >= GOOD_CHANNELS_MAX:
        GOOD_CHANNELS.clear()
    GOOD_CHANNELS.add(value)
    return value


def check_account(value: object, name: str = "account") -> str:
    """A user account (string uid) or user id: 1..255 bytes of UTF-8."""
    value = check_text(name, value, MAX_ACCOUNT_BYTES)
    if not value:
        # Only an RTC account has a wildcard to point to; an RTM or Chat user id has none.
        hint = " (use uid=0 for a token any user may join with)" if name == "account" else ""
        raise ValueError(f"{name} must not be empty{hint}")
    return value


def check_uid(value: object, name: str = "uid") -> int:
    """A numeric uid: 0 (any user) or 1..2^32-1."""
    return check_int(name, value, 0, U32_MAX)


def uid_string(uid: Uid, name: str = "uid") -> str:
    """The wire form of a uid: a number's decimal string, "" for 0; a str account verbatim."""
    if type(uid) is int and 0 <= uid <= U32_MAX:  # the common case, on every token's hot path
        return str(uid) if uid else ""
    if isinstance(uid, str):
        return check_text(name, uid)
    return str(check_uid(uid, name)) if uid else ""


def check_lifetime(name: str, value: object) -> int:
    """Seconds from now, 0..24 h: Agora would silently cap anything longer."""
    if type(value) is int and 0 <= value <= MAX_LIFETIME:  # the common case, on every token's hot path
        return value
    value = require_int(name, value)
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {shown(value)}")
    if value > MAX_LIFETIME:
        if value >= 10**20:
            raise ValueError(f"{name} must be at most {MAX_LIFETIME} s (24 h), got {shown(value)}")
        if value >= _LOOKS_ABSOLUTE:
            raise ValueError(
                f"{name} is seconds from now, but {value} looks like an absolute Unix timestamp"
            )
        raise ValueError(f"{name} is {value} s; Agora caps tokens at {MAX_LIFETIME} s (24 h)")
    return value


def check_token_lifetime(name: str, value: object, default: int) -> int:
    """A token's own lifetime, as ``check_lifetime``, where 0 means ``default``.

    A token that expires as it is issued is never what a caller wants, and agora-token-service
    (whose routes the server answers) reads an expiry of 0 as its default: so 0 means the default
    in the API, the CLI and the server alike. Privilege lifetimes keep 0 as a value.
    """
    value = check_lifetime(name, value)
    return default if value == 0 else value
