"""Checked arguments → the kernel's wire tuples: the one route from every builder to a kernel.

A builder (``builders`` for the Pythonic API, ``compat`` for Agora's official names) checks its
arguments by its own rules and calls one function here, which lays them out as the kernel's tuples
(docs/format.md, "Services") and makes the one kernel call. Nothing here checks an argument or picks
a default: a value that does not fit its wire field is the kernel's ``ValueError``. The tests build
every token both ways (here and through the object model, ``AccessToken2``) and compare the bytes.

Times: an ``issue_ts`` of None is now, read as ``time.time()`` through the ``time`` module at each
call (never a reference bound at import), so ``unittest.mock``, freezegun and time-machine stop this
clock too; the kernels read no clock. Whole seconds are ``math.trunc`` of it: the same as ``int()``
for a time, at two thirds of its cost (about 30 ns instead of 50 on Python 3.11) on the hottest
line of a token. A ``salt`` of None is the kernel's to draw (the OS CSPRNG).

Users: a wire uid is a str (an account, or a uid's decimal) or a numeric uid as an int, which the
kernel writes as its decimal itself (docs/format.md, "User ids"): a builder passes a checked int
as it is, without making a str of it first.

The RTC table: a token server repeats every argument of ``build_rtc_token`` (or of the official
``build_token_with_uid``) but the uid. Once a builder's checks pass, ``remember_rtc`` records what
those arguments mean, and ``rtc_token`` builds the token of a new uid from that record without the
checks (they cost more than the kernel's own work). Both builders share the one table, their keys
told apart by the rules they were checked by.
"""

from __future__ import annotations

import os
import sysconfig
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from math import trunc
from typing import Optional

from . import _backend
from ._kernel_api import Field, User
from ._limits import U32_MAX
from .services import ApaasPrivilege, ChatPrivilege, FpaPrivilege, RtmPrivilege, ServiceType, rtc_privileges

Privileges = tuple[tuple[int, int], ...]
#: A service type and the one privilege a token of ``grant_007`` gives.
Grant = tuple[ServiceType, int]
Service = tuple[int, Privileges, tuple[Field, ...]]
Services = tuple[Service, ...]

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
_RTC = int(ServiceType.RTC)
_RTM = int(ServiceType.RTM)


# --------------------------------------------------------------------------------------------------
# 007


def token_007(
    app_id: str, app_certificate: str, issue_ts: Optional[int], expire: int, salt: Optional[int], services: Services
) -> str:
    """A 007 token of ``services`` (wire tuples, types ascending): RTC+RTM, APaaS room users."""
    issue_ts = trunc(time.time()) if issue_ts is None else issue_ts
    return _backend.kernel.build_007(app_id, app_certificate, issue_ts, expire, salt, services)


def channel_user_007(
    app_id: str,
    app_certificate: str,
    service_type: ServiceType,
    privileges: Privileges,
    channel_name: str,
    user: User,
    expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A 007 token of one service of a channel and a user (a wire uid): Streaming, fusion CDN."""
    issue_ts = trunc(time.time()) if issue_ts is None else issue_ts
    kernel = _backend.kernel
    return kernel.build_007_user(app_id, app_certificate, issue_ts, expire, salt, service_type, privileges,
                                 channel_name, user)  # fmt: skip


def grant_007(
    app_id: str,
    app_certificate: str,
    grant: Grant,
    fields: tuple[Field, ...],
    privilege_expire: int,
    expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A 007 token of one service with one privilege: RTM, RTM2, Chat, FPA, APaaS user and app tokens."""
    service_type, privilege = grant
    issue_ts = trunc(time.time()) if issue_ts is None else issue_ts
    services = ((service_type, ((privilege, privilege_expire),), fields),)
    return _backend.kernel.build_007(app_id, app_certificate, issue_ts, expire, salt, services)


def rtc_007(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: User,
    publisher: bool,
    expire: int,
    privilege_expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A 007 token with one RTC service; ``uid`` is a wire uid (a str, or a checked int)."""
    issue_ts = trunc(time.time()) if issue_ts is None else issue_ts
    privileges = rtc_privileges(publisher, privilege_expire)
    return _backend.kernel.build_007_user(app_id, app_certificate, issue_ts, expire, salt, _RTC, privileges,
                                          channel_name, uid)  # fmt: skip


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
    rtc: Service = (_RTC, privileges, (channel_name, uid))
    if rtm_user_id is None:
        services: Services = (rtc,) if agent is None else (rtc, (agent, (), ()))
    else:  # the agent types come after RTM's 2 in wire order (docs/format.md, "Order")
        rtm: Service = (_RTM, ((_LOGIN, rtm_expire),), (rtm_user_id,))
        services = (rtc, rtm) if agent is None else (rtc, rtm, (agent, (), ()))
    return token_007(app_id, app_certificate, issue_ts, expire, salt, services)


def apaas_room_user_007(
    app_id: str,
    app_certificate: str,
    room_uuid: str,
    user_uuid: str,
    role: int,
    chat_user_id: str,
    expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """An APaaS room-user token: APaaS, RTM login as the user and Chat as ``chat_user_id``, all for ``expire``."""
    services: Services = (  # wire order is by type: RTM (2), Chat (5), APaaS (7)
        (ServiceType.RTM, ((_LOGIN, expire),), (user_uuid,)),
        (ServiceType.CHAT, ((CHAT_USER[1], expire),), (chat_user_id,)),
        (ServiceType.APAAS, ((_ROOM_USER, expire),), (room_uuid, user_uuid, role)),
    )
    return token_007(app_id, app_certificate, issue_ts, expire, salt, services)


def rtc_007_each(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uids: Sequence[str],
    publisher: bool,
    expire: int,
    privilege_expire: int,
    threads: int,
) -> list[str]:
    """One 007 RTC token per wire uid of ``uids``, in order: one issue time, a salt each, the work
    spread over ``threads`` threads (the C kernel builds each thread's share in blocks without the GIL)."""
    issue_ts = trunc(time.time())
    privileges = rtc_privileges(publisher, privilege_expire)
    kernel = _backend.kernel

    def build(chunk: Sequence[str]) -> list[str]:
        return kernel.build_007_each(app_id, app_certificate, issue_ts, expire, _RTC, privileges, channel_name, chunk)

    if threads == 1 or len(uids) < 64:
        return build(uids)
    size = -(-len(uids) // threads)
    chunks = [uids[i : i + size] for i in range(0, len(uids), size)]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return [token for part in pool.map(build, chunks) for token in part]


def default_threads() -> int:
    """How many threads ``rtc_007_each`` is worth: the CPU count (at most 8) on the C kernel, which
    releases the GIL; one on the pure kernel, which does not."""
    return min(os.cpu_count() or 1, 8) if _backend.name == "c" else 1


# --------------------------------------------------------------------------------------------------
# 006: times are absolute


def rtc_006(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: User,
    publisher: bool,
    privilege_expire_ts: int,
    ts: int,
    salt: Optional[int] = None,
) -> str:
    """A 006 RTC token whose privileges last until ``privilege_expire_ts`` and which expires at ``ts``."""
    privileges = rtc_privileges(publisher, privilege_expire_ts)
    return _backend.kernel.build_006(app_id, app_certificate, channel_name, uid, salt, ts, privileges)


#: The 006 privilege of RTM login (docs/format.md, "006").
_RTM_LOGIN_006 = 1000


def rtm_006(
    app_id: str, app_certificate: str, user_id: str, expire_ts: int, ts: int, salt: Optional[int] = None
) -> str:
    """A 006 RTM token: the user id stands in the channel's place, the uid is empty, login until ``expire_ts``."""
    privileges = ((_RTM_LOGIN_006, expire_ts),)
    return _backend.kernel.build_006(app_id, app_certificate, user_id, "", salt, ts, privileges)


# --------------------------------------------------------------------------------------------------
# The RTC table

#: The rules a set of RTC arguments was checked by: the same arguments mean other tokens under the
#: Pythonic builder's rules and under the official ones (compat), so they are keys apart.
PYTHONIC_RULES = "pythonic"
OFFICIAL_RULES = "official"
#: How many sets of checked arguments the table keeps: a caller cycling through more just has its
#: arguments checked again.
RTC_TABLE_MAX = 1024
#: What checked arguments mean: (is 006, token lifetime, 007 privileges, privilege lifetime,
#: publisher); lifetimes in seconds from the build time.
RtcMeaning = tuple[bool, int, Privileges, int, bool]
RtcTable = dict[tuple[object, ...], RtcMeaning]
#: Checked RTC arguments, all but the user, keyed as ``rtc_token`` looks them up, and their meaning;
#: one table for the process, or one per thread on a free-threaded build (``rtc_table``).
_SHARED_TABLE: RtcTable = {}
#: On a free-threaded build each thread keeps its own table: CPython 3.13t searches a dict that
#: another thread made far slower with a key built for the lookup (a tuple: about 21 µs, against
#: 0.3 µs in the thread that made the dict), which made the table a loss in every other thread.
_PER_THREAD = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
_THREAD = threading.local()


def rtc_table() -> RtcTable:
    """The table of checked RTC arguments this thread reads and fills."""
    if not _PER_THREAD:
        return _SHARED_TABLE
    try:
        table: RtcTable = _THREAD.rtc_table
    except AttributeError:
        table = _THREAD.rtc_table = {}
    return table


def rtc_token(
    rules: str,
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: object,
    role: object,
    expire: object,
    privilege_expire: object,
    version: object,
) -> Optional[str]:
    """The RTC token of ``uid``, now and with a fresh salt, if ``rules`` checked the other arguments
    before (``remember_rtc``); else None, and the caller checks them.

    The arguments are looked up as the caller passed them. Equal values of another type must not
    stand for the checked ones (``True == 1``, ``3600.0 == 3600``), so the key carries the types of
    the int-like arguments; the strings are the caller's own, given to the kernel, which refuses
    anything but a str. ``uid`` must be an ``int`` in 0..2^32-1 (0: the empty wire uid, any user).
    """
    key = (rules, app_id, app_certificate, channel_name, role, expire, privilege_expire, version,
           type(role), type(expire), type(privilege_expire))  # fmt: skip
    try:
        meaning = (rtc_table() if _PER_THREAD else _SHARED_TABLE).get(key)
    except TypeError:  # an unhashable argument (a list...): never checked, and the checks will say why
        return None
    if meaning is None or type(uid) is not int or not 0 <= uid <= U32_MAX:
        return None
    now = trunc(time.time())
    if meaning[0]:  # 006: absolute times
        privileges = rtc_privileges(meaning[4], now + meaning[3])
        return _backend.kernel.build_006(app_id, app_certificate, channel_name, uid, None, now + meaning[1], privileges)
    return _backend.kernel.build_007_user(app_id, app_certificate, now, meaning[1], None, _RTC, meaning[2],
                                          channel_name, uid)  # fmt: skip


def remember_rtc(
    rules: str,
    app_id: str,
    app_certificate: str,
    channel_name: str,
    role: object,
    expire: object,
    privilege_expire: object,
    version: object,
    meaning: tuple[bool, int, int, bool],
) -> None:
    """Record that ``rules`` checked these RTC arguments (all but the user, as the caller passed them)
    and that they mean ``(is 006, token lifetime, privilege lifetime, publisher)``."""
    is_006, lifetime, privilege_lifetime, publisher = meaning
    table = rtc_table()
    if len(table) >= RTC_TABLE_MAX:
        table.clear()
    key = (rules, app_id, app_certificate, channel_name, role, expire, privilege_expire, version,
           type(role), type(expire), type(privilege_expire))  # fmt: skip
    table[key] = (is_006, lifetime, rtc_privileges(publisher, privilege_lifetime), privilege_lifetime, publisher)
