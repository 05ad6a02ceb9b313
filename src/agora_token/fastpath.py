"""Hot paths: the most-built tokens go from already-checked arguments straight to the kernel.

The object model (AccessToken2, Service*) costs several microseconds of Python per token, more than
the C kernel's own work; these functions build the same wire tuples directly. They take arguments
that the caller (builders, compat) has checked, and they yield the same bytes as the model: the
tests build every token both ways and compare. A ``None`` issue time or salt is left for the kernel
to fill in (now, and a fresh CSPRNG salt), one Python call less per token.
"""

from __future__ import annotations

from typing import Optional

from . import _backend
from .services import rtc_privileges
from .validation import is_hex32

# (app_id, app_certificate) pairs already found well-formed, so a server that mints tokens for one
# app checks its credentials once. Bounded: a caller cycling through many apps just re-checks.
WELL_FORMED: set = set()
WELL_FORMED_MAX = 64


def credentials_well_formed(app_id: object, app_certificate: object) -> bool:
    """Whether both are 32-hex strings (remembered for the pairs seen most)."""
    key = (app_id, app_certificate)
    try:
        if key in WELL_FORMED:
            return True
    except TypeError:  # unhashable: certainly not a str
        return False
    if not (is_hex32(app_id) and is_hex32(app_certificate)):
        return False
    if len(WELL_FORMED) >= WELL_FORMED_MAX:
        WELL_FORMED.clear()
    WELL_FORMED.add(key)
    return True


def rtc_007(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: str,
    publisher: bool,
    expire: int,
    privilege_expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A 007 token with one RTC service; ``uid`` is already the wire string."""
    return _backend.kernel.build_007(
        app_id, app_certificate, issue_ts, expire, salt,
        ((1, rtc_privileges(publisher, privilege_expire), (channel_name, uid)),),
    )  # fmt: skip


def rtm_007(
    app_id: str,
    app_certificate: str,
    user_id: str,
    expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A 007 token with one RTM login service lasting ``expire``."""
    return _backend.kernel.build_007(
        app_id, app_certificate, issue_ts, expire, salt, ((2, ((1, expire),), (user_id,)),)
    )


def rtc_006(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: str,
    publisher: bool,
    privilege_expire_ts: int,
    ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A 006 RTC token; times are absolute, ``ts`` defaults to 24 h from now."""
    return _backend.kernel.build_006(
        app_id, app_certificate, channel_name, uid, salt, ts, rtc_privileges(publisher, privilege_expire_ts)
    )
