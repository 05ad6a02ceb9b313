"""Drop-in for the official ``convoai_token_builder`` module: 007 tokens for a Conversational AI agent.

A token carries RTC, RTM and an empty ConvoAI service (docs/format.md, "Services").
"""

from __future__ import annotations

from ..services import ServiceType
from . import AccessToken2 as _AccessToken2
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)
from .RtcTokenBuilder2 import Role_Publisher, Role_Subscriber, rtc_rtm_builder


class ConvoAITokenBuilder:
    """Builds 007 tokens for a Conversational AI agent; parameters are the npm package's, in snake_case."""

    build_token = rtc_rtm_builder(
        ServiceType.CONVOAI, "build_token",
        "RTC in ``channel_name`` as ``rtc_account``, RTM login as ``rtm_user_id``, and an empty ConvoAI service.",
    )  # fmt: skip


__all__ = [*_AccessToken2.__all__, "ConvoAITokenBuilder", "Role_Publisher", "Role_Subscriber"]
