"""Drop-in for the official ``convoai_token_builder`` module: 007 tokens for a Conversational AI agent.

A token carries RTC, RTM and an empty ConvoAI service (SPEC §9).
"""

from __future__ import annotations

from typing import Any

from . import AccessToken2 as _AccessToken2
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)
from .AccessToken2 import ServiceConvoAI
from .RtcTokenBuilder2 import Role_Publisher, Role_Subscriber, rtc_rtm_token


class ConvoAITokenBuilder:
    """Builds 007 tokens for a Conversational AI agent; parameters are the npm package's, in snake_case."""

    @staticmethod
    def build_token(
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
        """RTC in ``channel_name`` as ``rtc_account``, RTM login as ``rtm_user_id``, and an empty ConvoAI service."""
        return rtc_rtm_token(
            (ServiceConvoAI(),), app_id, app_certificate, channel_name, rtc_account, rtc_role, rtc_token_expire,
            join_channel_privilege_expire, pub_audio_privilege_expire, pub_video_privilege_expire,
            pub_data_stream_privilege_expire, rtm_user_id, rtm_token_expire,
        )  # fmt: skip


__all__ = [*_AccessToken2.__all__, "ConvoAITokenBuilder", "Role_Publisher", "Role_Subscriber"]
