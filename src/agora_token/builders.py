"""The Pythonic API: one validated function per kind of token, lifetimes in seconds from now.

Each builder is a recipe: its arguments checked (``validation``; ``ValueError``/``TypeError`` naming
the argument, never echoing the App Certificate), then one call of ``wire``, which lays them out as
the kernel's tuples and makes the one kernel call. ``issue_ts`` and ``salt`` exist for reproducible
output and tests; without them a token is issued now (``time.time()``, read at each call) with a
fresh salt.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from math import trunc
from typing import Optional, Union

from . import wire
from ._bind import bind_first
from ._limits import U32_MAX
from .services import (
    FCdnPrivilege,
    RtcPrivilege,
    Rtm2Permissions,
    ServiceType,
    StreamingPrivilege,
    check_permissions,
    rtc_privileges,
)
from .validation import (
    DEFAULT_EXPIRE,
    MAX_LIFETIME,
    PUBLISHING_ROLES,
    RoleLike,
    Version,
    check_account,
    check_channel,
    check_credentials,
    check_credentials_and_times,
    check_grants,
    check_int,
    check_lifetime,
    check_optional_u32,
    check_privilege_lifetime,
    check_role,
    check_token_lifetime,
    check_u32,
    check_user,
    check_version,
    uid_string,
)
from .validation import RtcRole as RtcRole  # the builders' role type (agora_token.server imports it from here)


def _grant_token(
    app_id: str,
    app_certificate: str,
    grant: wire.Grant,
    fields: tuple[Union[str, int], ...],
    expire: int,
    issue_ts: Optional[int],
    salt: Optional[int],
) -> str:
    """A token of one service (``fields`` checked) whose one privilege lasts as long as the token."""
    expire, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt)
    return wire.grant_007(app_id, app_certificate, grant, fields, expire, expire, issue_ts, salt)


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
    version: Version = "007",
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A token to join ``channel`` as ``uid`` (0: anyone) or ``account``; publishers may publish.

    ``expire`` and ``privilege_expire`` (default: ``expire``) are seconds from now, at most 24 h.
    ``version="006"`` builds the legacy format (``issue_ts`` is then the build time it counts from).
    """
    if account is None and issue_ts is None and salt is None:
        # The most-built token of all: a server repeats every argument but the uid, so once they
        # pass the checks below, the wire layer remembers them and builds straight from the record.
        token = wire.rtc_token(
            wire.PYTHONIC_RULES, app_id, app_certificate, channel, uid, role, expire, privilege_expire, version
        )
        if token is not None:
            return token
    return _checked_rtc_token(
        app_id, app_certificate, channel, uid, account, role, expire, privilege_expire, version, issue_ts, salt
    )


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
    """``build_rtc_token`` with every check; arguments that pass them (but the user) are remembered."""
    checked_channel = check_channel(channel, "channel")
    wire_uid = uid_string(check_user(uid, account))
    checked_version = check_version(version)
    publisher = check_role(role, version=checked_version) in PUBLISHING_ROLES
    lifetime = check_token_lifetime("expire", expire, DEFAULT_EXPIRE)
    privilege_lifetime = check_privilege_lifetime(privilege_expire, lifetime)
    check_credentials(app_id, app_certificate)
    is_006 = checked_version == "006"
    wire.remember_rtc(
        wire.PYTHONIC_RULES, app_id, app_certificate, channel, role, expire, privilege_expire, version,
        (is_006, lifetime, privilege_lifetime, publisher),
    )  # fmt: skip
    issue_ts = check_optional_u32("issue_ts", issue_ts)
    salt = check_optional_u32("salt", salt)
    if not is_006:
        return wire.rtc_007(
            app_id, app_certificate, checked_channel, wire_uid, publisher, lifetime, privilege_lifetime, issue_ts, salt
        )
    if issue_ts is None:  # now + at most 24 h fits 32 bits until 2106
        now = trunc(time.time())
        until, ts = now + privilege_lifetime, now + lifetime
    else:
        until = check_u32("privilege_expire", issue_ts + privilege_lifetime)
        ts = check_u32("expire", issue_ts + lifetime)
    return wire.rtc_006(app_id, app_certificate, checked_channel, wire_uid, publisher, until, ts, salt)


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
) -> list[str]:
    """One 007 RTC token per user of ``users`` (ints are uids, strs accounts), in order.

    The same checks as ``build_rtc_token``, done once for the shared arguments; the tokens share
    one issue time and each gets its own salt. With the C backend the work is spread over
    ``threads`` threads (default: the CPU count, at most 8): the kernel builds each thread's share
    in blocks without the GIL.
    """
    channel = check_channel(channel, "channel")
    publisher = check_role(role) is RtcRole.PUBLISHER
    lifetime = check_token_lifetime("expire", expire, DEFAULT_EXPIRE)
    privilege_lifetime = check_privilege_lifetime(privilege_expire, lifetime)
    check_credentials(app_id, app_certificate)
    if not isinstance(users, (list, tuple)):  # a str, bytes or bytearray would give one uid a char
        raise TypeError(f"users must be a list or tuple of uids (int) or accounts (str), not {type(users).__name__}")
    wire_uids = [uid_string(u, "users") if type(u) is int else check_account(u, "users") for u in users]
    threads = check_int("threads", wire.default_threads() if threads is None else threads, 1, 64)
    return wire.rtc_007_each(
        app_id, app_certificate, channel, wire_uids, publisher, lifetime, privilege_lifetime, threads
    )


def _rtm_token_006(
    app_id: str, app_certificate: str, user_id: str, expire: int, issue_ts: Optional[int], salt: Optional[int]
) -> str:
    """A 006 RTM token: the account stands in the channel field, privilege times are absolute."""
    lifetime, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt)
    now = trunc(time.time()) if issue_ts is None else issue_ts
    until = check_u32("expire", now + lifetime)
    return wire.rtm_006(app_id, app_certificate, user_id, until, until, salt)


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
    user = check_user(uid, account)
    values = (join_channel_expire, publish_audio_expire, publish_video_expire, publish_data_expire)
    keywords = zip(_RTC_PRIVILEGE_KEYWORDS, values)
    privileges = tuple((int(privilege), check_lifetime(name, value)) for (privilege, name), value in keywords)
    expire, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt)
    return wire.rtc_rtm_007(
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
    user = check_user(uid, account)
    role = check_role(role)
    rtm_user = check_account(uid_string(user) if rtm_user_id is None else rtm_user_id, "rtm_user_id")
    expire, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt)
    values = (join_channel_expire, publish_audio_expire, publish_video_expire, publish_data_expire)
    privileges = []
    for (privilege, name), value in zip(_RTC_PRIVILEGE_KEYWORDS, values):
        if privilege is not RtcPrivilege.JOIN_CHANNEL and role not in PUBLISHING_ROLES:
            if value is not None:
                raise ValueError(
                    f"{name} is given, but a subscriber gets no publish privileges (role='publisher' does)"
                )
            continue
        privileges.append((int(privilege), check_privilege_lifetime(value, expire, name)))
    rtm_lifetime = check_privilege_lifetime(rtm_expire, expire, "rtm_expire")
    return wire.rtc_rtm_007(
        app_id, app_certificate, channel, uid_string(user), tuple(privileges), rtm_user, rtm_lifetime, None, expire,
        issue_ts, salt,
    )  # fmt: skip


def build_rtm_token(
    app_id: str,
    app_certificate: str,
    user_id: Union[str, int],
    *,
    expire: int = DEFAULT_EXPIRE,
    permissions: Optional[Rtm2Permissions] = None,
    version: Version = "007",
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
    check_version(version)
    if permissions is None:
        return _grant_token(app_id, app_certificate, wire.RTM_LOGIN, (user_id,), expire, issue_ts, salt)
    expire, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt)
    fields = (user_id, *check_permissions(permissions).to_wire())
    return wire.grant_007(app_id, app_certificate, wire.RTM2_LOGIN, fields, expire, expire, issue_ts, salt)


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
    return _grant_token(app_id, app_certificate, wire.CHAT_USER, (user_id,), expire, issue_ts, salt)


def build_chat_app_token(
    app_id: str,
    app_certificate: str,
    *,
    expire: int = DEFAULT_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A token for Agora Chat's REST API as the app itself."""
    return _grant_token(app_id, app_certificate, wire.CHAT_APP, ("",), expire, issue_ts, salt)


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
    expire, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt)
    role = check_int("role", role, -0x8000, 0x7FFF)
    return wire.apaas_room_user_007(
        app_id, app_certificate, room_uuid, user_uuid, role, chat_user_id(user_uuid), expire, issue_ts, salt
    )


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
    return _grant_token(app_id, app_certificate, wire.APAAS_USER, fields, expire, issue_ts, salt)


def build_apaas_app_token(
    app_id: str,
    app_certificate: str,
    *,
    expire: int = DEFAULT_EXPIRE,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A Flexible Classroom token for the app itself."""
    return _grant_token(app_id, app_certificate, wire.APAAS_APP, ("", "", -1), expire, issue_ts, salt)


# Agora's Education builders are the APaaS ones under another name (docs/format.md, "Services").
build_education_room_user_token = build_apaas_room_user_token
build_education_user_token = build_apaas_user_token
build_education_app_token = build_apaas_app_token


def build_fpa_token(
    app_id: str,
    app_certificate: str,
    *,
    expire: int = MAX_LIFETIME,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A token to log in to FPA (a day by default, as Agora's builder); the login lasts as long as the token."""
    expire, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt, MAX_LIFETIME)
    return wire.grant_007(app_id, app_certificate, wire.FPA_LOGIN, (), 0, expire, issue_ts, salt)


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
    channel = check_channel(channel, "channel")
    user = uid_string(check_user(uid, account), "account")
    expire, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt)
    granted = check_grants((
        (StreamingPrivilege.PUBLISH_MIX_STREAM, "publish_mix_stream", publish_mix_stream),
        (StreamingPrivilege.PUBLISH_RAW_STREAM, "publish_raw_stream", publish_raw_stream),
    ))  # fmt: skip
    privileges = tuple((int(privilege), expire) for privilege in granted)
    return wire.channel_user_007(app_id, app_certificate, ServiceType.STREAMING, privileges, channel, user, expire,
                                 issue_ts, salt)  # fmt: skip


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
    channel = check_channel(channel, "channel")
    user = uid_string(check_user(uid, account), "account")
    expire, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt)
    granted = check_grants(((FCdnPrivilege.PUBLISH, "publish", publish), (FCdnPrivilege.PLAY, "play", play)))
    privileges = tuple((int(privilege), expire) for privilege in granted)
    return wire.channel_user_007(app_id, app_certificate, ServiceType.FCDN, privileges, channel, user, expire,
                                 issue_ts, salt)  # fmt: skip


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
    wire_uid = uid_string(check_user(uid, account))
    publisher = check_role(role) in PUBLISHING_ROLES
    rtm_user = check_account(wire_uid if rtm_user_id is None else rtm_user_id, "rtm_user_id")
    expire, issue_ts, salt = check_credentials_and_times(app_id, app_certificate, expire, issue_ts, salt)
    privileges = rtc_privileges(publisher, check_privilege_lifetime(privilege_expire, expire))
    rtm_lifetime = check_privilege_lifetime(rtm_expire, expire, "rtm_expire")
    return wire.rtc_rtm_007(
        app_id, app_certificate, channel, wire_uid, privileges, rtm_user, rtm_lifetime, agent, expire, issue_ts, salt
    )


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
__all__ = ["chat_user_id", *sorted(n for n in dict(globals()) if n.startswith("build_"))]
