"""The Pythonic API: one validated function per kind of token, lifetimes in seconds from now.

Every argument is checked (``ValueError``/``TypeError`` naming it) before anything is built; the
App Certificate is never echoed. ``issue_ts`` and ``salt`` exist for reproducible output and tests.
"""

from __future__ import annotations

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from enum import IntEnum
from typing import Dict, List, Optional, Sequence, Tuple, Union

from . import _backend, fastpath
from ._bind import bind_first
from ._kernel_api import RtcShape
from ._limits import U32_MAX
from .services import (
    FCdnPrivilege,
    RtcPrivilege,
    Rtm2Permissions,
    Service,
    ServiceFCdn,
    ServiceStreaming,
    ServiceType,
    StreamingPrivilege,
    check_permissions,
    rtc_privileges,
)
from .token006 import AccessToken, Privilege006
from .token007 import AccessToken2
from .validation import (
    MAX_LIFETIME,
    check_account,
    check_app_id,
    check_certificate,
    check_channel,
    check_int,
    check_lifetime,
    check_token_lifetime,
    check_u32,
    check_uid,
    require_bool,
    require_int,
    shown,
    uid_string,
)

#: Default lifetime of tokens from this API: one hour.
DEFAULT_EXPIRE = 3600
#: FPA tokens last a day, as in Agora's builder.
FPA_EXPIRE = 24 * 3600


class RtcRole(IntEnum):
    """Who the RTC token is for: a publisher (host) also gets the three publish privileges.

    ``ATTENDEE`` (0) and ``ADMIN`` (101) are the official 006 builders' other roles, for 006 tokens
    only: like there they get the publisher's privileges (SPEC §2.3). 007 knows 1 and 2 alone.
    """

    ATTENDEE = 0
    PUBLISHER = 1
    SUBSCRIBER = 2
    ADMIN = 101


RoleLike = Union[RtcRole, int, str]

#: Roles whose tokens carry the three publish privileges besides joining (SPEC §2.3).
PUBLISHING_ROLES = frozenset({RtcRole.ATTENDEE, RtcRole.PUBLISHER, RtcRole.ADMIN})
_ROLES_007 = (RtcRole.PUBLISHER, RtcRole.SUBSCRIBER)


def check_role(role: RoleLike, name: str = "role", version: str = "007") -> RtcRole:
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


def rtc_user(uid: Optional[int], account: Optional[str]) -> Union[int, str]:
    """Exactly one of a numeric ``uid`` and a string ``account``, checked."""
    if (uid is None) == (account is None):
        raise TypeError("give exactly one of uid (a number; 0 lets any user join) and account (a string)")
    return check_uid(uid) if account is None else check_account(account)


def check_credentials(app_id: object, app_certificate: object) -> None:
    """Both are 32 hex characters, else the error names the bad one (never echoing it)."""
    if not fastpath.credentials_well_formed(app_id, app_certificate):
        check_app_id(app_id)
        check_certificate(app_certificate)


def _expire(expire: int, default: int = DEFAULT_EXPIRE) -> int:
    """The token's lifetime; 0 means the default (see ``check_token_lifetime``)."""
    return check_token_lifetime("expire", expire, default)


def _optional_u32(name: str, value: Optional[int]) -> Optional[int]:
    return None if value is None else check_u32(name, value)


def _times(
    app_id: str, app_certificate: str, expire: int, issue_ts: Optional[int], salt: Optional[int]
) -> Tuple[int, Optional[int], Optional[int]]:
    """The credentials checked, then ``(expire, issue_ts, salt)``; a None time or salt is the kernel's to fill."""
    check_credentials(app_id, app_certificate)
    if issue_ts is None and salt is None:  # the common case: the kernel picks both
        return _expire(expire), None, None
    return _expire(expire), _optional_u32("issue_ts", issue_ts), _optional_u32("salt", salt)


def _grant_token(
    app_id: str,
    app_certificate: str,
    grant: fastpath.Grant,
    fields: tuple,
    expire: int,
    issue_ts: Optional[int],
    salt: Optional[int],
    privilege_expire: Optional[int] = None,
) -> str:
    """A token of one service (``fields`` checked) whose one privilege lasts the token's lifetime by default."""
    expire, issue_ts, salt = _times(app_id, app_certificate, expire, issue_ts, salt)
    lifetime = expire if privilege_expire is None else privilege_expire
    return fastpath.grant_007(app_id, app_certificate, grant, fields, lifetime, expire, issue_ts, salt)


def _token(
    app_id: str, app_certificate: str, expire: int, issue_ts: Optional[int], salt: Optional[int]
) -> AccessToken2:
    expire, issue_ts, salt = _times(app_id, app_certificate, expire, issue_ts, salt)
    return AccessToken2(app_id, app_certificate, issue_ts=issue_ts, expire=expire, salt=salt)


def _build_with(token: AccessToken2, service: Service, wanted: Dict[IntEnum, bool], names: str) -> str:
    """``service`` granting each wanted privilege for the token's lifetime; refusing to grant none."""
    for (privilege, on), name in zip(wanted.items(), names.split(" and ")):
        if require_bool(name, on):
            service.add_privilege(privilege, token.expire)
    if not service.privileges:
        raise ValueError(f"{names} are both off: the token would grant nothing")
    token.add_service(service)
    return token.build()


def _privilege_expire(value: Optional[int], expire: int, name: str = "privilege_expire") -> int:
    if value is None:
        return expire
    if type(value) is int and 0 <= value <= MAX_LIFETIME:
        return value
    return check_lifetime(name, value)


def build_rtc_token(
    app_id: str,
    app_certificate: str,
    channel: str,
    *,
    uid: Optional[int] = None,
    account: Optional[str] = None,
    role: RoleLike = RtcRole.PUBLISHER,
    expire: int = DEFAULT_EXPIRE,
    privilege_expire: Optional[int] = None,
    version: str = "007",
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A token to join ``channel`` as ``uid`` (0: anyone) or ``account``; publishers may publish.

    ``expire`` and ``privilege_expire`` (default: ``expire``) are seconds from now, at most 24 h.
    ``version="006"`` builds the legacy format (``issue_ts`` is then the build time it counts from).
    """
    if account is None and issue_ts is None and salt is None:
        # The most-built token of all: a server repeats every argument but the uid, so once they
        # pass the checks below, their shape is remembered and the kernel builds straight from it.
        token = _backend.kernel.rtc_token(
            _RTC_SHAPES, app_id, app_certificate, channel, uid, role, expire, privilege_expire, version
        )
        if token is not None:
            return token
    return _checked_rtc_token(
        app_id, app_certificate, channel, uid, account, role, expire, privilege_expire, version, issue_ts, salt
    )


#: Checked RTC arguments (all but the user) and what they mean, as the kernels' ``rtc_token`` reads
#: them: see ``_pure.rtc_token`` and ``fastpath.remember_rtc_shape``.
_RTC_SHAPES: Dict[tuple, RtcShape] = {}


def _checked_rtc_token(
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: Optional[int],
    account: Optional[str],
    role: RoleLike,
    expire: int,
    privilege_expire: Optional[int],
    version: str,
    issue_ts: Optional[int],
    salt: Optional[int],
) -> str:
    """``build_rtc_token`` with every check, remembering the shape of arguments that pass them."""
    shape_key = (app_id, app_certificate, channel, role, expire, privilege_expire, version)
    channel = check_channel(channel, "channel")
    wire_uid = uid_string(rtc_user(uid, account))
    if version not in ("007", "006"):
        raise ValueError(f"version must be '007' or '006', got {version!r}")
    publisher = check_role(role, version=version) in PUBLISHING_ROLES
    expire = _expire(expire)
    privilege_expire = _privilege_expire(privilege_expire, expire)
    check_credentials(app_id, app_certificate)
    fastpath.remember_rtc_shape(_RTC_SHAPES, shape_key, version == "006", expire, privilege_expire, publisher)
    if issue_ts is not None:
        issue_ts = check_u32("issue_ts", issue_ts)
    if salt is not None:
        salt = check_u32("salt", salt)
    if version == "007":
        return fastpath.rtc_007(
            app_id, app_certificate, channel, wire_uid, publisher, expire, privilege_expire, issue_ts, salt
        )
    if issue_ts is None:  # now + at most 24 h fits 32 bits until 2106
        now = int(time.time())
        until, ts = now + privilege_expire, now + expire
    else:
        until = check_u32("privilege_expire", issue_ts + privilege_expire)
        ts = check_u32("expire", issue_ts + expire)
    return fastpath.rtc_006(app_id, app_certificate, channel, wire_uid, publisher, until, ts, salt)


def build_rtc_tokens(
    app_id: str,
    app_certificate: str,
    channel: str,
    users: Sequence[Union[int, str]],
    *,
    role: RoleLike = RtcRole.PUBLISHER,
    expire: int = DEFAULT_EXPIRE,
    privilege_expire: Optional[int] = None,
    threads: Optional[int] = None,
) -> List[str]:
    """One 007 RTC token per user of ``users`` (ints are uids, strs accounts), in order.

    The same checks as ``build_rtc_token``, done once for the shared arguments; the tokens share
    one issue time and each gets its own salt. With the C backend the work is spread over
    ``threads`` threads (default: the CPU count, at most 8): the kernel builds each thread's share
    in blocks without the GIL.
    """
    channel = check_channel(channel, "channel")
    publisher = check_role(role) is RtcRole.PUBLISHER
    expire = _expire(expire)
    privileges = rtc_privileges(publisher, _privilege_expire(privilege_expire, expire))
    check_credentials(app_id, app_certificate)
    if not isinstance(users, (list, tuple)):  # a str, bytes or bytearray would give one uid a char
        raise TypeError(f"users must be a list or tuple of uids (int) or accounts (str), not {type(users).__name__}")
    wire_uids = [uid_string(u, "users") if type(u) is int else check_account(u, "users") for u in users]
    issue_ts = int(time.time())
    kernel = _backend.kernel

    def build(chunk: Sequence[str]) -> List[str]:
        return kernel.build_007_each(
            app_id, app_certificate, issue_ts, expire, int(ServiceType.RTC), privileges, channel, chunk
        )

    if threads is None:
        threads = min(os.cpu_count() or 1, 8) if _backend.name == "c" else 1
    threads = check_int("threads", threads, 1, 64)
    if threads == 1 or len(wire_uids) < 64:
        return build(wire_uids)
    size = -(-len(wire_uids) // threads)
    chunks = [wire_uids[i : i + size] for i in range(0, len(wire_uids), size)]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return [token for part in pool.map(build, chunks) for token in part]


def _rtm_token_006(
    app_id: str, app_certificate: str, user_id: str, expire: int, issue_ts: Optional[int], salt: Optional[int]
) -> str:
    """A 006 RTM token: the account stands in the channel field, privilege times are absolute."""
    check_credentials(app_id, app_certificate)
    expire = _expire(expire)
    now = int(time.time()) if issue_ts is None else check_u32("issue_ts", issue_ts)
    until = check_u32("expire", now + expire)
    token = AccessToken(app_id, app_certificate, user_id, "", salt=salt, ts=until)
    token.add_privilege(Privilege006.RTM_LOGIN, until)
    return token.build()


#: The four RTC privileges, in order, and the keyword that gives each its own lifetime.
_RTC_PRIVILEGE_KEYWORDS = (
    (RtcPrivilege.JOIN_CHANNEL, "join_channel_expire"),
    (RtcPrivilege.PUBLISH_AUDIO_STREAM, "publish_audio_expire"),
    (RtcPrivilege.PUBLISH_VIDEO_STREAM, "publish_video_expire"),
    (RtcPrivilege.PUBLISH_DATA_STREAM, "publish_data_expire"),
)


def build_rtc_token_with_privileges(
    app_id: str,
    app_certificate: str,
    channel: str,
    *,
    uid: Optional[int] = None,
    account: Optional[str] = None,
    expire: int = DEFAULT_EXPIRE,
    join_channel_expire: int,
    publish_audio_expire: int,
    publish_video_expire: int,
    publish_data_expire: int,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """An RTC token with each of the four privileges given its own lifetime (seconds from now)."""
    channel = check_channel(channel, "channel")
    user = rtc_user(uid, account)
    values = (join_channel_expire, publish_audio_expire, publish_video_expire, publish_data_expire)
    keywords = zip(_RTC_PRIVILEGE_KEYWORDS, values)
    privileges = tuple((int(privilege), check_lifetime(name, value)) for (privilege, name), value in keywords)
    expire, issue_ts, salt = _times(app_id, app_certificate, expire, issue_ts, salt)
    return fastpath.rtc_rtm_007(
        app_id, app_certificate, channel, uid_string(user), privileges, None, 0, None, expire, issue_ts, salt
    )


def build_rtc_rtm_token_with_privileges(
    app_id: str,
    app_certificate: str,
    channel: str,
    *,
    uid: Optional[int] = None,
    account: Optional[str] = None,
    role: RoleLike = RtcRole.PUBLISHER,
    expire: int = DEFAULT_EXPIRE,
    join_channel_expire: Optional[int] = None,
    publish_audio_expire: Optional[int] = None,
    publish_video_expire: Optional[int] = None,
    publish_data_expire: Optional[int] = None,
    rtm_user_id: Optional[str] = None,
    rtm_expire: Optional[int] = None,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """RTC with each privilege's own lifetime plus RTM login, in one token (the official ``build_token_with_rtm2``).

    Every lifetime is seconds from now and defaults to ``expire``; a subscriber gets join only, so
    giving it a publish lifetime is an error. ``rtm_user_id`` defaults to the RTC user.
    """
    channel = check_channel(channel, "channel")
    user = rtc_user(uid, account)
    role = check_role(role)
    rtm_user = check_account(uid_string(user) if rtm_user_id is None else rtm_user_id, "rtm_user_id")
    expire, issue_ts, salt = _times(app_id, app_certificate, expire, issue_ts, salt)
    values = (join_channel_expire, publish_audio_expire, publish_video_expire, publish_data_expire)
    privileges = []
    for (privilege, name), value in zip(_RTC_PRIVILEGE_KEYWORDS, values):
        if privilege is not RtcPrivilege.JOIN_CHANNEL and role not in PUBLISHING_ROLES:
            if value is not None:
                raise ValueError(
                    f"{name} is given, but a subscriber gets no publish privileges (role='publisher' does)"
                )
            continue
        privileges.append((int(privilege), _privilege_expire(value, expire, name)))
    rtm_lifetime = _privilege_expire(rtm_expire, expire, "rtm_expire")
    return fastpath.rtc_rtm_007(
        app_id, app_certificate, channel, uid_string(user), tuple(privileges), rtm_user, rtm_lifetime, None, expire,
        issue_ts, salt,
    )  # fmt: skip


def build_rtm_token(
    app_id: str,
    app_certificate: str,
    user_id: str,
    *,
    expire: int = DEFAULT_EXPIRE,
    permissions: Optional[Rtm2Permissions] = None,
    version: str = "007",
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A token to log in to RTM as ``user_id``; with ``permissions``, an RTM2 token scoped to them.

    With ``permissions`` the user id may also be a number (1..2^32-1), as Agora's Node code allows.
    """
    if type(user_id) is int and permissions is not None:
        user_id = str(check_int("user_id", user_id, 1, U32_MAX))
    user_id = check_account(user_id, "user_id")
    if version == "006":
        if permissions is not None:
            raise ValueError("permissions need a 007 token; 006 RTM tokens cannot carry them")
        return _rtm_token_006(app_id, app_certificate, user_id, expire, issue_ts, salt)
    if version != "007":
        raise ValueError(f"version must be '007' or '006', got {version!r}")
    if permissions is None:
        return _grant_token(app_id, app_certificate, fastpath.RTM_LOGIN, (user_id,), expire, issue_ts, salt)
    expire, issue_ts, salt = _times(app_id, app_certificate, expire, issue_ts, salt)
    fields = (user_id, *check_permissions(permissions).to_wire())
    return fastpath.grant_007(app_id, app_certificate, fastpath.RTM2_LOGIN, fields, expire, expire, issue_ts, salt)


def build_chat_user_token(
    app_id: str,
    app_certificate: str,
    user_id: str,
    *,
    expire: int = DEFAULT_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A token for Agora Chat as the user ``user_id``."""
    user_id = check_account(user_id, "user_id")
    return _grant_token(app_id, app_certificate, fastpath.CHAT_USER, (user_id,), expire, issue_ts, salt)


def build_chat_app_token(
    app_id: str,
    app_certificate: str,
    *,
    expire: int = DEFAULT_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A token for Agora Chat's REST API as the app itself."""
    return _grant_token(app_id, app_certificate, fastpath.CHAT_APP, ("",), expire, issue_ts, salt)


def chat_user_id(user_uuid: str) -> str:
    """The Chat user id Agora derives from an APaaS user: the lowercase hex MD5 of ``user_uuid``."""
    return hashlib.md5(user_uuid.encode()).hexdigest()


def build_apaas_room_user_token(
    app_id: str,
    app_certificate: str,
    room_uuid: str,
    user_uuid: str,
    role: int,
    *,
    expire: int = DEFAULT_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A Flexible Classroom token for ``user_uuid`` in ``room_uuid`` (with RTM and Chat for the user)."""
    room_uuid = check_account(room_uuid, "room_uuid")
    user_uuid = check_account(user_uuid, "user_uuid")
    expire, issue_ts, salt = _times(app_id, app_certificate, expire, issue_ts, salt)
    role = check_int("role", role, -0x8000, 0x7FFF)
    services = fastpath.apaas_room_user_services(room_uuid, user_uuid, role, chat_user_id(user_uuid), expire)
    return _backend.kernel.build_007(app_id, app_certificate, issue_ts, expire, salt, services)


def build_apaas_user_token(
    app_id: str,
    app_certificate: str,
    user_uuid: str,
    *,
    expire: int = DEFAULT_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A Flexible Classroom token for ``user_uuid`` outside any room."""
    fields = ("", check_account(user_uuid, "user_uuid"), -1)
    return _grant_token(app_id, app_certificate, fastpath.APAAS_USER, fields, expire, issue_ts, salt)


def build_apaas_app_token(
    app_id: str,
    app_certificate: str,
    *,
    expire: int = DEFAULT_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A Flexible Classroom token for the app itself."""
    return _grant_token(app_id, app_certificate, fastpath.APAAS_APP, ("", "", -1), expire, issue_ts, salt)


# Agora's Education builders are the APaaS ones under another name (SPEC §4).
build_education_room_user_token = build_apaas_room_user_token
build_education_user_token = build_apaas_user_token
build_education_app_token = build_apaas_app_token


def build_fpa_token(
    app_id: str,
    app_certificate: str,
    *,
    expire: int = FPA_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A token to log in to FPA; the login privilege lasts as long as the token."""
    expire = _expire(expire, FPA_EXPIRE)
    return _grant_token(app_id, app_certificate, fastpath.FPA_LOGIN, (), expire, issue_ts, salt, privilege_expire=0)


def build_streaming_token(
    app_id: str,
    app_certificate: str,
    channel: str,
    *,
    uid: Optional[int] = None,
    account: Optional[str] = None,
    publish_mix_stream: bool = True,
    publish_raw_stream: bool = True,
    expire: int = DEFAULT_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A media-streaming token allowing the chosen publish privileges in ``channel``."""
    service = ServiceStreaming(check_channel(channel, "channel"), rtc_user(uid, account))
    wanted = {
        StreamingPrivilege.PUBLISH_MIX_STREAM: publish_mix_stream,
        StreamingPrivilege.PUBLISH_RAW_STREAM: publish_raw_stream,
    }
    return _build_with(_token(app_id, app_certificate, expire, issue_ts, salt), service, wanted,
                       "publish_mix_stream and publish_raw_stream")  # fmt: skip


def build_fcdn_token(
    app_id: str,
    app_certificate: str,
    channel: str,
    *,
    uid: Optional[int] = None,
    account: Optional[str] = None,
    publish: bool = True,
    play: bool = True,
    expire: int = DEFAULT_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A fusion-CDN token allowing publishing and/or playing ``channel``."""
    service = ServiceFCdn(check_channel(channel, "channel"), rtc_user(uid, account))
    wanted = {FCdnPrivilege.PUBLISH: publish, FCdnPrivilege.PLAY: play}
    return _build_with(_token(app_id, app_certificate, expire, issue_ts, salt), service, wanted, "publish and play")


def _rtc_rtm_token(
    agent: Optional[ServiceType],
    app_id: str,
    app_certificate: str,
    channel: str,
    *,
    uid: Optional[int] = None,
    account: Optional[str] = None,
    rtm_user_id: Optional[str] = None,
    role: RoleLike = RtcRole.PUBLISHER,
    expire: int = DEFAULT_EXPIRE,
    privilege_expire: Optional[int] = None,
    rtm_expire: Optional[int] = None,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """RTC in ``channel``, RTM login as ``rtm_user_id`` (default: the RTC user) and ``agent``'s service if any."""
    channel = check_channel(channel, "channel")
    user = rtc_user(uid, account)
    publisher = check_role(role) in PUBLISHING_ROLES
    rtm_user = check_account(uid_string(user) if rtm_user_id is None else rtm_user_id, "rtm_user_id")
    expire, issue_ts, salt = _times(app_id, app_certificate, expire, issue_ts, salt)
    privileges = rtc_privileges(publisher, _privilege_expire(privilege_expire, expire))
    rtm_lifetime = _privilege_expire(rtm_expire, expire, "rtm_expire")
    return fastpath.rtc_rtm_007(
        app_id, app_certificate, channel, uid_string(user), privileges, rtm_user, rtm_lifetime, agent, expire,
        issue_ts, salt,
    )  # fmt: skip


build_rtc_rtm_token = bind_first(
    _rtc_rtm_token, None, "build_rtc_rtm_token",
    "One token for RTC in ``channel`` and RTM login as ``rtm_user_id`` (default: the RTC user).",
)  # fmt: skip
build_convoai_token = bind_first(
    _rtc_rtm_token, ServiceType.CONVOAI, "build_convoai_token",
    "A token for a Conversational AI agent: RTC in ``channel``, RTM login and the ConvoAI service.",
)  # fmt: skip
build_stt_token = bind_first(
    _rtc_rtm_token, ServiceType.STT, "build_stt_token",
    "A token for a speech-to-text agent: RTC in ``channel``, RTM login and the STT service.",
)  # fmt: skip


#: The Pythonic API: every ``build_*`` function and the names its callers need. The package
#: re-exports each by name (so type checkers see them); tests/test_layout.py checks none is missed.
__all__ = ["DEFAULT_EXPIRE", "RtcRole", "chat_user_id", *sorted(n for n in dict(globals()) if n.startswith("build_"))]
