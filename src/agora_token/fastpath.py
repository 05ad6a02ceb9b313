"""Hot paths: the most-built tokens go from already-checked arguments straight to the kernel.

The object model (AccessToken2, Service*) costs several microseconds of Python per token, more than
the C kernel's own work; these functions build the same wire tuples directly. They take arguments
that the caller (builders, compat) has checked, and they yield the same bytes as the model: the
tests build every token both ways and compare. A ``None`` issue time or salt is left for the kernel
to fill in (now, and a fresh CSPRNG salt), one Python call less per token.
"""

from __future__ import annotations

from typing import Optional, Tuple

from . import _backend
from .services import ChatPrivilege, FpaPrivilege, RtmPrivilege, ServiceType, rtc_privileges
from .validation import is_hex32

Privileges = Tuple[Tuple[int, int], ...]

# Privilege ids as exact ints: the C kernel packs exact ints on its fast path (an IntEnum member
# takes the general one). Service types go as ServiceType members: the kernel reads them as ints.
_LOGIN = int(RtmPrivilege.LOGIN)
_FPA_LOGIN = int(FpaPrivilege.LOGIN)
_CHAT_USER, _CHAT_APP = int(ChatPrivilege.USER), int(ChatPrivilege.APP)

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
        ((ServiceType.RTC, rtc_privileges(publisher, privilege_expire), (channel_name, uid)),),
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
        app_id, app_certificate, issue_ts, expire, salt, ((ServiceType.RTM, ((_LOGIN, expire),), (user_id,)),)
    )


def rtc_rtm_007(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: str,
    privileges: Privileges,
    rtm_user_id: Optional[str],
    rtm_expire: int,
    agent: Optional[ServiceType],
    expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """RTC with ``privileges`` (ids ascending), RTM login unless ``rtm_user_id`` is None, and an
    agent's empty service (ConvoAI, STT) if any: every 007 token of the RTC+RTM builders."""
    services: tuple = ((ServiceType.RTC, privileges, (channel_name, uid)),)
    if rtm_user_id is not None:
        services += ((ServiceType.RTM, ((_LOGIN, rtm_expire),), (rtm_user_id,)),)
    if agent is not None:  # the agent types come after RTM's 2 in wire order (SPEC §3.3)
        services += ((agent, (), ()),)
    return _backend.kernel.build_007(app_id, app_certificate, issue_ts, expire, salt, services)


def rtm2_007(
    app_id: str,
    app_certificate: str,
    user_id: str,
    permissions: tuple,
    expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A 007 token with one RTM2 login lasting ``expire``; ``permissions`` is ``Rtm2Permissions.to_wire()``."""
    fields = (user_id, *permissions)
    return _backend.kernel.build_007(
        app_id, app_certificate, issue_ts, expire, salt, ((ServiceType.RTM2, ((_LOGIN, expire),), fields),)
    )


def chat_007(
    app_id: str,
    app_certificate: str,
    user_id: str,
    app: bool,
    expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A 007 Chat token: the user privilege for ``user_id``, or (``app``) the app privilege."""
    privileges = ((_CHAT_APP if app else _CHAT_USER, expire),)
    return _backend.kernel.build_007(
        app_id, app_certificate, issue_ts, expire, salt, ((ServiceType.CHAT, privileges, (user_id,)),)
    )


def apaas_007(
    app_id: str,
    app_certificate: str,
    room_uuid: str,
    user_uuid: str,
    role: int,
    privilege: int,
    expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
    chat_user_id: Optional[str] = None,
) -> str:
    """A 007 APaaS token granting ``privilege``; a room user's (``chat_user_id``) adds RTM and Chat logins."""
    services: tuple = ((ServiceType.APAAS, ((int(privilege), expire),), (room_uuid, user_uuid, role)),)
    if chat_user_id is not None:  # wire order is by type: RTM (2), Chat (5), APaaS (7)
        services = (
            (ServiceType.RTM, ((_LOGIN, expire),), (user_uuid,)),
            (ServiceType.CHAT, ((_CHAT_USER, expire),), (chat_user_id,)),
            *services,
        )
    return _backend.kernel.build_007(app_id, app_certificate, issue_ts, expire, salt, services)


def fpa_007(
    app_id: str, app_certificate: str, expire: int, issue_ts: Optional[int] = None, salt: Optional[int] = None
) -> str:
    """A 007 FPA token: the login privilege lasts as long as the token (0)."""
    return _backend.kernel.build_007(
        app_id, app_certificate, issue_ts, expire, salt, ((ServiceType.FPA, ((_FPA_LOGIN, 0),), ()),)
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
