"""Drop-in for the official ``RtcTokenBuilder2`` module: 007 RTC (and RTC+RTM) tokens.

All expiry arguments are seconds from now. As in Agora's current python3 folder, every builder is a
static method of ``RtcTokenBuilder`` (the PyPI packaging agoraiotools 0.3.4 puts four of them on
``RtcTokenBuilder2`` only); ``RtcTokenBuilder2`` is an alias.
"""

from __future__ import annotations

from typing import Any, Optional

from .. import wire
from .._bind import bind_first
from .._limits import U32_MAX
from ..services import RTC_PRIVILEGE_IDS, ServiceType
from ..validation import check_text, credentials_well_formed, uid_string
from . import AccessToken2 as _AccessToken2
from . import _common
from ._common import PINS, UNPINNED, expire_value, pins, uid_str
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)

Role_Publisher = 1  # a host in a live broadcast: may also publish
Role_Subscriber = 2  # an audience member (default): may join only


_JOIN, _AUDIO, _VIDEO, _DATA = RTC_PRIVILEGE_IDS  # wire order

#: ``rtc_rtm_token``'s ``rtm_user_id`` for a token without RTM (None is a user id the check refuses).
_RTC_ONLY: Any = object()


def rtc_rtm_token(
    agent: Optional[ServiceType],
    app_id: str,
    app_certificate: str,
    channel_name: str,
    rtc_account: Any,
    rtc_role: int,
    rtc_token_expire: int,
    join_channel_privilege_expire: int,
    pub_audio_privilege_expire: int,
    pub_video_privilege_expire: int,
    pub_data_stream_privilege_expire: int,
    rtm_user_id: str,
    rtm_token_expire: int,
) -> str:
    """``build_token_with_rtm2``'s token (RTC alone for ``rtm_user_id`` ``_RTC_ONLY``) plus ``agent``'s service.

    The official argument rules (uid 0 is any user, ``Role_Publisher`` alone publishes, a value
    checked as the core service checked it, "" for malformed credentials) applied, the token is the
    Pythonic builders' (``wire.rtc_rtm_007``).
    """
    if type(rtc_account) is int and 0 < rtc_account <= U32_MAX:  # a uid (the common case): its decimal is a wire uid
        uid = str(rtc_account)
        channel_name = check_text("channel_name", channel_name)
    else:
        uid = uid_str(rtc_account)
        channel_name = check_text("channel_name", channel_name)
        uid = uid_string(uid)
    privileges: tuple[tuple[int, int], ...] = ((_JOIN, expire_value(join_channel_privilege_expire)),)
    if rtc_role == Role_Publisher:  # spelled out: zip/map cost a third of a microsecond more
        privileges += (
            (_AUDIO, expire_value(pub_audio_privilege_expire)), (_VIDEO, expire_value(pub_video_privilege_expire)),
            (_DATA, expire_value(pub_data_stream_privilege_expire)),
        )  # fmt: skip
    rtm_user: Optional[str] = None
    if rtm_user_id is not _RTC_ONLY:
        rtm_user = check_text("user_id", rtm_user_id)
        rtm_token_expire = expire_value(rtm_token_expire)
    if not credentials_well_formed(app_id, app_certificate):
        return ""
    rtc_token_expire = expire_value(rtc_token_expire)
    issue_ts, salt = PINS.get() if _common.pinning else UNPINNED
    return wire.rtc_rtm_007(app_id, app_certificate, channel_name, uid, privileges, rtm_user, rtm_token_expire, agent,
                            rtc_token_expire, issue_ts, salt)  # fmt: skip


def rtc_rtm_builder(agent: Optional[ServiceType], name: str, doc: str) -> Any:
    """An official RTC+RTM builder (the parameters of ``build_token_with_rtm2``) adding ``agent``'s service."""
    return staticmethod(bind_first(rtc_rtm_token, agent, name, doc))


class RtcTokenBuilder:
    """Builds 007 RTC tokens, optionally with RTM login."""

    @staticmethod
    def build_token_with_uid(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        uid: Any,
        role: int,
        token_expire: int,
        privilege_expire: int = 0,
    ) -> str:
        """An RTC token for the numeric ``uid`` (0: any user)."""
        # A server's common case: built from arguments these rules checked before.
        if not _common.pinning or PINS.get() is UNPINNED:
            token = wire.rtc_token(
                wire.OFFICIAL_RULES, app_id, app_certificate, channel_name, uid, role, token_expire, privilege_expire,
                "007",
            )  # fmt: skip
            if token is not None:
                return token
        token = RtcTokenBuilder.build_token_with_user_account(
            app_id, app_certificate, channel_name, uid, role, token_expire, privilege_expire
        )
        if token:  # every argument but the uid passed the checks, and they pass for any uid
            wire.remember_rtc(
                wire.OFFICIAL_RULES, app_id, app_certificate, channel_name, role, token_expire, privilege_expire,
                "007", (False, token_expire, privilege_expire, role == Role_Publisher),
            )  # fmt: skip
        return token

    @staticmethod
    def build_token_with_user_account(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        account: Any,
        role: int,
        token_expire: int,
        privilege_expire: int = 0,
    ) -> str:
        """An RTC token for the user ``account``; ``Role_Publisher`` may also publish."""
        if not credentials_well_formed(app_id, app_certificate):
            return ""
        return wire.rtc_007(
            app_id, app_certificate, channel_name, uid_str(account), role == Role_Publisher, token_expire,
            privilege_expire, *pins(),
        )  # fmt: skip

    @staticmethod
    def build_token_with_uid_and_privilege(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        uid: Any,
        token_expire: int,
        join_channel_privilege_expire: int,
        pub_audio_privilege_expire: int,
        pub_video_privilege_expire: int,
        pub_data_stream_privilege_expire: int,
    ) -> str:
        """An RTC token for ``uid`` with each of the four privileges given its own lifetime."""
        return RtcTokenBuilder.build_token_with_user_account_and_privilege(
            app_id,
            app_certificate,
            channel_name,
            uid,
            token_expire,
            join_channel_privilege_expire,
            pub_audio_privilege_expire,
            pub_video_privilege_expire,
            pub_data_stream_privilege_expire,
        )

    @staticmethod
    def build_token_with_user_account_and_privilege(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        account: Any,
        token_expire: int,
        join_channel_privilege_expire: int,
        pub_audio_privilege_expire: int,
        pub_video_privilege_expire: int,
        pub_data_stream_privilege_expire: int,
    ) -> str:
        """An RTC token for ``account`` with each of the four privileges given its own lifetime."""
        return rtc_rtm_token(
            None, app_id, app_certificate, channel_name, account, Role_Publisher, token_expire,
            join_channel_privilege_expire, pub_audio_privilege_expire, pub_video_privilege_expire,
            pub_data_stream_privilege_expire, _RTC_ONLY, 0,
        )  # fmt: skip

    @staticmethod
    def build_token_with_rtm(
        app_id: str,
        app_certificate: str,
        channel_name: str,
        account: str,
        role: int,
        token_expire: int,
        privilege_expire: int = 0,
    ) -> str:
        """An RTC token for ``account`` that also logs in to RTM as ``account`` (for ``token_expire``)."""
        return rtc_rtm_token(
            None, app_id, app_certificate, channel_name, account, role, token_expire, *(privilege_expire,) * 4,
            account, token_expire,
        )  # fmt: skip

    build_token_with_rtm2 = rtc_rtm_builder(
        None, "build_token_with_rtm2",
        "An RTC token for ``rtc_account`` plus RTM login as ``rtm_user_id``, each with its own lifetimes.",
    )  # fmt: skip


#: The name the PyPI packaging (agoraiotools) also exports.
RtcTokenBuilder2 = RtcTokenBuilder

__all__ = [
    *_AccessToken2.__all__,
    "Role_Publisher",
    "Role_Subscriber",
    "RtcTokenBuilder",
    "RtcTokenBuilder2",
]
