"""Drop-in for the official ``RtmTokenBuilder`` module: legacy 006 RTM tokens."""

from __future__ import annotations

from .. import wire
from ..validation import MAX_LIFETIME, check_text, credentials_well_formed
from . import AccessToken as _AccessToken006
from ._common import expire_value, times
from .AccessToken import *  # noqa: F401,F403  (the official module re-exports these too)

Role_Rtm_User = 1


class RtmTokenBuilder:
    """Builds 006 RTM tokens; ``privilegeExpiredTs`` is an absolute Unix time."""

    @staticmethod
    def buildToken(appId: str, appCertificate: str, userAccount: str, role: int, privilegeExpiredTs: int) -> str:
        """A token to log in to RTM as ``userAccount`` (``role`` is always ``Role_Rtm_User``).

        "" when the App ID or certificate is not 32 hexadecimal characters, as ``AccessToken.build``.
        """
        if not credentials_well_formed(appId, appCertificate):
            return ""
        user = check_text("channel_name", userAccount)  # the user account stands in the channel's place
        expire_ts = expire_value(privilegeExpiredTs)
        issue_ts, salt = times()
        return wire.rtm_006(appId, appCertificate, user, expire_ts, issue_ts + MAX_LIFETIME, salt)


__all__ = [*_AccessToken006.__all__, "Role_Rtm_User", "RtmTokenBuilder"]
