"""Drop-in for the official ``RtcTokenBuilder`` module: legacy 006 RTC tokens."""

from __future__ import annotations

from typing import Any

from . import AccessToken as _AccessToken006
from .AccessToken import *  # noqa: F401,F403  (the official module re-exports these too)
from .. import _backend
from .. import builders as _builders
from ..fastpath import credentials_well_formed
from ..services import rtc_privileges
from ..token006 import DEFAULT_TOKEN_LIFETIME
from ._common import pins, uid_str

Role_Attendee = 0  # deprecated: treated as a publisher
Role_Publisher = 1  # a host in a live broadcast
Role_Subscriber = 2  # an audience member
Role_Admin = 101  # deprecated: treated as a publisher

#: Roles whose 006 tokens also carry the three publish privileges (Agora's python3 rule, SPEC §2.3):
#: the Pythonic builders' set, one home for the rule (RtcRole members equal these ints).
PUBLISHING_ROLES = _builders.PUBLISHING_ROLES


class RtcTokenBuilder:
    """Builds 006 RTC tokens; ``privilegeExpiredTs`` is an absolute Unix time."""

    @staticmethod
    def buildTokenWithUid(
        appId: str, appCertificate: str, channelName: str, uid: Any, role: int, privilegeExpiredTs: int
    ) -> str:
        """A token to join ``channelName`` as the numeric ``uid`` (0: any user)."""
        if not credentials_well_formed(appId, appCertificate):
            return ""
        # Straight to the kernel (one frame less: this is the hottest 006 call); salt and ts: its
        # defaults, unless pinned() fixed them (ts is then the pinned issue time + 24 h, as officially).
        privileges = rtc_privileges(role in PUBLISHING_ROLES, privilegeExpiredTs)
        issue_ts, salt = pins()
        ts = None if issue_ts is None else issue_ts + DEFAULT_TOKEN_LIFETIME
        return _backend.kernel.build_006(appId, appCertificate, channelName, uid_str(uid), salt, ts, privileges)

    @staticmethod
    def buildTokenWithAccount(
        appId: str, appCertificate: str, channelName: str, account: Any, role: int, privilegeExpiredTs: int
    ) -> str:
        """A token to join ``channelName`` as ``account``; all but subscribers may also publish."""
        return RtcTokenBuilder.buildTokenWithUid(appId, appCertificate, channelName, account, role, privilegeExpiredTs)


__all__ = [
    *_AccessToken006.__all__,
    "PUBLISHING_ROLES",
    "Role_Admin",
    "Role_Attendee",
    "Role_Publisher",
    "Role_Subscriber",
    "RtcTokenBuilder",
]
