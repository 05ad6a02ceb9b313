"""Every argument check, in one place; the model, builders, compat, CLI and server all call these.

Each check returns the (possibly normalised) value or raises ``TypeError``/``ValueError`` whose
message starts with the argument's name. No check ever puts a certificate's value in a message.
The words the API accepts for a fixed choice (roles, versions) are ``Literal`` types here, so a
type checker knows them too.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Literal, Optional, Union

from . import _messages
from ._limits import U16_MAX, U32_MAX

#: Agora caps every token and privilege at 24 hours (docs/format.md, "Limits Agora documents"); the
#: official code's own defaults of a day (a 006 token's expiry, an FPA token's lifetime) are this.
MAX_LIFETIME = 24 * 3600
#: A token's lifetime in seconds when a builder, the CLI or the server is given none (or 0): one hour.
DEFAULT_EXPIRE = 3600
#: Longest documented channel name and user account, in UTF-8 bytes (docs/format.md, "Limits Agora
#: documents").
MAX_CHANNEL_BYTES = 64
MAX_ACCOUNT_BYTES = 255
#: Anything above this passed as a lifetime is surely an absolute Unix time (year 2001 onwards).
_LOOKS_ABSOLUTE = 1_000_000_000

_HEX32 = re.compile(r"[0-9a-fA-F]{32}\Z")
_CHANNEL = re.compile(r"[a-zA-Z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}|~,]*\Z")

Uid = Union[int, str]
#: The token formats a builder can make.
Version = Literal["007", "006"]


def _type_error(name: str, expected: str, value: object) -> TypeError:
    return TypeError(_messages.not_a(expected, name, value))


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
GOOD_CHANNELS: set[str] = set()
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
    if type(value) is str and 0 < len(value) <= MAX_ACCOUNT_BYTES and value.isascii():  # ASCII: a byte a char
        return value
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
            raise ValueError(f"{name} is seconds from now, but {value} looks like an absolute Unix timestamp")
        raise ValueError(f"{name} is {value} s; Agora caps tokens at {MAX_LIFETIME} s (24 h)")
    return value


def check_token_lifetime(name: str, value: object, default: int) -> int:
    """A token's own lifetime, as ``check_lifetime``, where 0 means ``default``.

    A token that expires as it is issued is never what a caller wants, and agora-token-service
    (whose routes the server answers) reads an expiry of 0 as its default: so 0 means the default
    in the API, the CLI and the server alike. Privilege lifetimes keep 0 as a value.
    """
    if type(value) is int and 0 < value <= MAX_LIFETIME:  # the common case
        return value
    value = check_lifetime(name, value)
    return default if value == 0 else value


def check_privilege_lifetime(value: object, expire: int, name: str = "privilege_expire") -> int:
    """A privilege's lifetime in seconds from now; None means the token's own (``expire``)."""
    if value is None:
        return expire
    if type(value) is int and 0 <= value <= MAX_LIFETIME:  # the common case, on every token's hot path
        return value
    return check_lifetime(name, value)


def check_optional_u32(name: str, value: object) -> Optional[int]:
    """None, or an int that fits an unsigned 32-bit wire field (an issue time, a salt)."""
    return None if value is None else check_u32(name, value)


def check_version(version: object) -> Version:
    """The token format asked for: "007" or "006"."""
    if version == "007" or version == "006":
        return version
    raise ValueError(f"version must be '007' or '006', got {version!r}")


# --------------------------------------------------------------------------------------------------
# Credentials

#: (app_id, app_certificate) pairs already found well-formed, so a server that mints tokens for one
#: app checks its credentials once. Bounded: a caller cycling through many apps just re-checks.
_WELL_FORMED: set[tuple[object, object]] = set()
_WELL_FORMED_MAX = 64
#: The pair last found well-formed, the very objects: a server passes the same two strs on every
#: call, which two identity tests recognise before any hashing (half the cost of the set lookup).
#: One tuple, replaced whole, so a thread never sees half of another's pair.
_last_well_formed: tuple[object, object] = (object(), object())


def credentials_well_formed(app_id: object, app_certificate: object) -> bool:
    """Whether both are 32-hex strings (remembered for the pairs seen most)."""
    global _last_well_formed
    last = _last_well_formed
    if app_id is last[0] and app_certificate is last[1]:
        return True
    key = (app_id, app_certificate)
    try:
        if key in _WELL_FORMED:
            _last_well_formed = key
            return True
    except TypeError:  # unhashable: certainly not a str
        return False
    if not (is_hex32(app_id) and is_hex32(app_certificate)):
        return False
    if len(_WELL_FORMED) >= _WELL_FORMED_MAX:
        _WELL_FORMED.clear()
    _WELL_FORMED.add(key)
    _last_well_formed = key
    return True


def check_credentials(app_id: object, app_certificate: object) -> None:
    """Both are 32 hex characters, else the error names the bad one (never echoing it)."""
    if not credentials_well_formed(app_id, app_certificate):
        check_app_id(app_id)
        check_certificate(app_certificate)


def check_credentials_and_times(
    app_id: object, app_certificate: object, expire: object, issue_ts: object, salt: object,
    default: int = DEFAULT_EXPIRE,
) -> tuple[int, Optional[int], Optional[int]]:  # fmt: skip
    """What every builder takes: the credentials checked, then ``(expire, issue_ts, salt)``.

    ``expire`` 0 is ``default``; a None issue time or salt stays None (now, a fresh salt: the
    wire layer and the kernel fill them in).
    """
    if not credentials_well_formed(app_id, app_certificate):
        check_credentials(app_id, app_certificate)  # raises, naming the bad one
    if issue_ts is None and salt is None:  # the common case
        return check_token_lifetime("expire", expire, default), None, None
    lifetime = check_token_lifetime("expire", expire, default)
    return lifetime, check_optional_u32("issue_ts", issue_ts), check_optional_u32("salt", salt)


# --------------------------------------------------------------------------------------------------
# RTC roles and users


class RtcRole(IntEnum):
    """Who the RTC token is for: a publisher (host) also gets the three publish privileges.

    ``ATTENDEE`` (0) and ``ADMIN`` (101) are the official 006 builders' other roles, for 006 tokens
    only: like there they get the publisher's privileges (docs/format.md, "006 roles"). 007 knows 1
    and 2 alone.
    """

    ATTENDEE = 0
    PUBLISHER = 1
    SUBSCRIBER = 2
    ADMIN = 101


#: The words a role may be given as (any case, surrounding blanks ignored).
RoleName = Literal["publisher", "subscriber", "attendee", "admin"]
RoleLike = Union[RtcRole, int, RoleName]

#: Roles whose tokens carry the three publish privileges besides joining (docs/format.md, "006 roles").
PUBLISHING_ROLES = frozenset({RtcRole.ATTENDEE, RtcRole.PUBLISHER, RtcRole.ADMIN})
_ROLES_007 = (RtcRole.PUBLISHER, RtcRole.SUBSCRIBER)


def check_role(role: object, name: str = "role", version: str = "007") -> RtcRole:
    """An RtcRole, its value or its name ("publisher", "subscriber"; for 006 also "attendee", "admin")."""
    if type(role) is RtcRole:
        checked = role
    elif isinstance(role, str):
        try:
            checked = RtcRole[role.strip().upper()]
        except KeyError:
            names = "'publisher' or 'subscriber'"
            if version == "006":
                names = "'publisher', 'subscriber', 'attendee' or 'admin'"
            raise ValueError(f"{name} must be {names}, got {role!r}") from None
    else:
        value = require_int(name, role)
        if value not in RtcRole._value2member_map_:
            raise ValueError(
                f"{name} must be RtcRole.PUBLISHER (1) or RtcRole.SUBSCRIBER (2)"
                + (", or for 006 RtcRole.ATTENDEE (0) or RtcRole.ADMIN (101)" if version == "006" else "")
                + f", got {shown(value)}"
            )
        checked = RtcRole(value)
    if version != "006" and checked not in _ROLES_007:
        raise ValueError(
            f"{name} {checked.name.lower()} ({int(checked)}) exists in 006 tokens only (version='006'); "
            "007 roles are publisher (1) and subscriber (2)"
        )
    return checked


def check_user(uid: object, account: object) -> Uid:
    """Exactly one of a numeric ``uid`` and a string ``account``, checked."""
    if account is None and type(uid) is int and 0 <= uid <= U32_MAX:  # the common case
        return uid
    if (uid is None) == (account is None):
        raise TypeError("give exactly one of uid (a number; 0 lets any user join) and account (a string)")
    return check_uid(uid) if account is None else check_account(account)


def check_grants(switches: tuple[tuple[int, str, object], ...]) -> tuple[int, ...]:
    """The privileges switched on, of ``(privilege, name, switch)``: each switch a bool proper; none
    at all is refused (a token that grants nothing)."""
    granted = tuple(privilege for privilege, name, on in switches if require_bool(name, on))
    if not granted:
        raise ValueError(f"{' and '.join(name for _, name, _ in switches)} are both off: the token would grant nothing")
    return granted
