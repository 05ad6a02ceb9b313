"""Hot paths: the most-built tokens go from already-checked arguments straight to the kernel.

The object model (AccessToken2, Service*) costs several microseconds of Python per token, more than
the C kernel's own work; these functions build the same wire tuples directly. They take arguments
that the caller (builders, compat) has checked, and they yield the same bytes as the model: the
tests build every token both ways and compare. A ``None`` issue time or salt is left for the kernel
to fill in (now, and a fresh CSPRNG salt), one Python call less per token.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from . import _backend
from ._kernel_api import RtcShape, rtc_shape_key_is_exact
from .services import ApaasPrivilege, ChatPrivilege, FpaPrivilege, RtmPrivilege, ServiceType, rtc_privileges
from .validation import is_hex32

Privileges = Tuple[Tuple[int, int], ...]
#: A service type and the one privilege a token of ``grant_007`` gives.
Grant = Tuple[ServiceType, int]

# Privilege ids as exact ints: the C kernel packs exact ints on its fast path (an IntEnum member
# takes the general one). Service types go as ServiceType members: the kernel reads them as ints.
_LOGIN = int(RtmPrivilege.LOGIN)
RTM_LOGIN: Grant = (ServiceType.RTM, _LOGIN)
RTM2_LOGIN: Grant = (ServiceType.RTM2, _LOGIN)
FPA_LOGIN: Grant = (ServiceType.FPA, int(FpaPrivilege.LOGIN))
CHAT_USER: Grant = (ServiceType.CHAT, int(ChatPrivilege.USER))
CHAT_APP: Grant = (ServiceType.CHAT, int(ChatPrivilege.APP))
APAAS_USER: Grant = (ServiceType.APAAS, int(ApaasPrivilege.USER))
APAAS_APP: Grant = (ServiceType.APAAS, int(ApaasPrivilege.APP))
_ROOM_USER = int(ApaasPrivilege.ROOM_USER)

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


#: How many argument shapes a table of ``remember_rtc_shape`` keeps: a caller cycling through more
#: just has its arguments checked again.
RTC_SHAPES_MAX = 1024
#: The privilege ids of an RTC token, in wire order: a subscriber's (join) and a publisher's.
_RTC_IDS = (tuple(p for p, _ in rtc_privileges(False, 0)), tuple(p for p, _ in rtc_privileges(True, 0)))


def remember_rtc_shape(
    shapes: Dict[tuple, RtcShape], key: tuple, is_006: bool, expire: int, privilege_expire: int, publisher: bool
) -> None:
    """Record in ``shapes`` what the RTC arguments ``key`` (all but the uid, as a caller passed
    them, in the order the kernels' ``rtc_token`` looks them up) mean once a builder checked them:
    lifetimes in seconds from the build time, and which role's privileges. A key the kernels would
    not look up is not kept: a lookalike value (``True``, ``1.0``) would stand for what it equals."""
    if not rtc_shape_key_is_exact(*key):
        return
    if len(shapes) >= RTC_SHAPES_MAX:
        shapes.clear()
    shapes[key] = (is_006, expire, privilege_expire, int(ServiceType.RTC), _RTC_IDS[publisher])


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


def grant_007(
    app_id: str,
    app_certificate: str,
    grant: Grant,
    fields: tuple,
    privilege_expire: int,
    expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A 007 token of one service with one privilege: RTM, RTM2, Chat, FPA, APaaS user and app tokens."""
    service_type, privilege = grant
    services = ((service_type, ((privilege, privilege_expire),), fields),)
    return _backend.kernel.build_007(app_id, app_certificate, issue_ts, expire, salt, services)


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


def apaas_room_user_services(room_uuid: str, user_uuid: str, role: int, chat_user_id: str, expire: int) -> tuple:
    """The wire services of an APaaS room-user token (for ``build_007``): APaaS, RTM login as the user and
    Chat as ``chat_user_id``, all for ``expire``."""
    return (  # wire order is by type: RTM (2), Chat (5), APaaS (7)
        (ServiceType.RTM, ((_LOGIN, expire),), (user_uuid,)),
        (ServiceType.CHAT, ((CHAT_USER[1], expire),), (chat_user_id,)),
        (ServiceType.APAAS, ((_ROOM_USER, expire),), (room_uuid, user_uuid, role)),
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
