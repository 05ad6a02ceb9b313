"""Drop-in for the official ``RtcTokenBuilder2`` module: 007 RTC (and RTC+RTM) tokens.

All expiry arguments are seconds from now. As in Agora's current python3 folder, every builder is a
static method of ``RtcTokenBuilder`` (the PyPI packaging agoraiotools 0.3.4 puts four of them on
``RtcTokenBuilder2`` only); ``RtcTokenBuilder2`` is an alias.
"""

from __future__ import annotations

from typing import Any, List, Sequence

from .. import builders as _builders
from .. import fastpath
from .. import services as _services
from ..services import RtcPrivilege
from . import AccessToken2 as _AccessToken2
from ._common import pins, uid_str
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)
from .AccessToken2 import AccessToken, ServiceRtm

Role_Publisher = 1  # a host in a live broadcast: may also publish
Role_Subscriber = 2  # an audience member (default): may join only

_PUBLISH_PRIVILEGES = (
    RtcPrivilege.PUBLISH_AUDIO_STREAM,
    RtcPrivilege.PUBLISH_VIDEO_STREAM,
    RtcPrivilege.PUBLISH_DATA_STREAM,
)


def _rtc_service(
    channel_name: str,
    account: Any,
    role: int,
    join_channel_privilege_expire: int,
    pub_audio_privilege_expire: int,
    pub_video_privilege_expire: int,
    pub_data_stream_privilege_expire: int,
) -> _services.ServiceRtc:
    """The RTC service of the official builders: join, plus the publish privileges for ``Role_Publisher``.

    Which privileges a role gets is the core's rule; this only gives each its own lifetime.
    """
    rtc_role = _builders.RtcRole.PUBLISHER if role == Role_Publisher else _builders.RtcRole.SUBSCRIBER
    service = _builders.rtc_service(channel_name, uid_str(account), rtc_role, join_channel_privilege_expire)
    values = (pub_audio_privilege_expire, pub_video_privilege_expire, pub_data_stream_privilege_expire)
    for privilege, expire in zip(_PUBLISH_PRIVILEGES, values):
        if privilege in service.privileges:
            service.add_privilege(privilege, expire)
    return service


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
        return RtcTokenBuilder.build_token_with_user_account(
            app_id, app_certificate, channel_name, uid, role, token_expire, privilege_expire
        )

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
        if not fastpath.credentials_well_formed(app_id, app_certificate):
            return ""
        return fastpath.rtc_007(
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
        token = AccessToken(app_id, app_certificate, expire=token_expire)
        token.add_service(
            _rtc_service(
                channel_name,
                account,
                Role_Publisher,
                join_channel_privilege_expire,
                pub_audio_privilege_expire,
                pub_video_privilege_expire,
                pub_data_stream_privilege_expire,
            )
        )
        return token.build()

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
        token = AccessToken(app_id, app_certificate, expire=token_expire)
        token.add_service(_rtc_service(channel_name, account, role, *(privilege_expire,) * 4))
        rtm = ServiceRtm(account)
        rtm.add_privilege(ServiceRtm.kPrivilegeLogin, token_expire)
        token.add_service(rtm)
        return token.build()

    @staticmethod
    def build_token_with_rtm2(
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
        """An RTC token for ``rtc_account`` plus RTM login as ``rtm_user_id``, each with its own lifetimes."""
        return rtc_rtm_token(
            (), app_id, app_certificate, channel_name, rtc_account, rtc_role, rtc_token_expire,
            join_channel_privilege_expire, pub_audio_privilege_expire, pub_video_privilege_expire,
            pub_data_stream_privilege_expire, rtm_user_id, rtm_token_expire,
        )  # fmt: skip


def rtc_rtm_token(
    extra: Sequence[_services.Service],
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
    """``build_token_with_rtm2``'s token plus ``extra`` services (the ConvoAI and STT builders' shape)."""
    token = AccessToken(app_id, app_certificate, expire=rtc_token_expire)
    for service in _rtc_rtm_services(
        channel_name, rtc_account, rtc_role, join_channel_privilege_expire, pub_audio_privilege_expire,
        pub_video_privilege_expire, pub_data_stream_privilege_expire, rtm_user_id, rtm_token_expire,
    ):  # fmt: skip
        token.add_service(service)
    for service in extra:
        token.add_service(service)
    return token.build()


def _rtc_rtm_services(
    channel_name: str,
    rtc_account: Any,
    rtc_role: int,
    join_channel_privilege_expire: int,
    pub_audio_privilege_expire: int,
    pub_video_privilege_expire: int,
    pub_data_stream_privilege_expire: int,
    rtm_user_id: str,
    rtm_token_expire: int,
) -> List[_services.Service]:
    """The RTC and RTM services of ``build_token_with_rtm2`` (also the start of ConvoAI/STT tokens)."""
    rtc = _rtc_service(
        channel_name,
        rtc_account,
        rtc_role,
        join_channel_privilege_expire,
        pub_audio_privilege_expire,
        pub_video_privilege_expire,
        pub_data_stream_privilege_expire,
    )
    rtm = ServiceRtm(rtm_user_id)
    rtm.add_privilege(ServiceRtm.kPrivilegeLogin, rtm_token_expire)
    return [rtc, rtm]


#: The name the PyPI packaging (agoraiotools) also exports.
RtcTokenBuilder2 = RtcTokenBuilder

__all__ = [
    *_AccessToken2.__all__,
    "Role_Publisher",
    "Role_Subscriber",
    "RtcTokenBuilder",
    "RtcTokenBuilder2",
]
