"""Drop-in for the official ``stt_token_builder`` module: 007 tokens for a speech-to-text agent (RTC + RTM + Stt)."""

from __future__ import annotations

from ..services import ServiceType
from . import AccessToken2 as _AccessToken2
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)
from .RtcTokenBuilder2 import Role_Publisher, Role_Subscriber, rtc_rtm_builder


class SttTokenBuilder:
    """Builds 007 tokens for a speech-to-text agent; parameters are the npm package's, in snake_case."""

    build_token = rtc_rtm_builder(
        ServiceType.STT, "build_token",
        "RTC in ``channel_name`` as ``rtc_account``, RTM login as ``rtm_user_id``, and an empty Stt service.",
    )  # fmt: skip


__all__ = [*_AccessToken2.__all__, "SttTokenBuilder", "Role_Publisher", "Role_Subscriber"]
