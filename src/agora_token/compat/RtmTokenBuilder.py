"""Drop-in for the official ``RtmTokenBuilder`` module: legacy 006 RTM tokens."""

from __future__ import annotations

from . import AccessToken as _AccessToken006
from .AccessToken import *  # noqa: F401,F403  (the official module re-exports these too)
from .AccessToken import AccessToken, kRtmLogin

Role_Rtm_User = 1


class RtmTokenBuilder:
    """Builds 006 RTM tokens; ``privilegeExpiredTs`` is an absolute Unix time."""

    @staticmethod
    def buildToken(appId: str, appCertificate: str, userAccount: str, role: int, privilegeExpiredTs: int) -> str:
        """A token to log in to RTM as ``userAccount`` (``role`` is always ``Role_Rtm_User``)."""
        token = AccessToken(appId, appCertificate, userAccount, "")
        token.addPrivilege(kRtmLogin, privilegeExpiredTs)
        return token.build()


__all__ = [*_AccessToken006.__all__, "Role_Rtm_User", "RtmTokenBuilder"]
