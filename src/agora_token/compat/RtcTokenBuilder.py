"""Drop-in for the official ``RtcTokenBuilder`` module: legacy 006 RTC tokens."""

from __future__ import annotations

import time
from math import trunc
from typing import Any

from .. import wire
from .._limits import U32_MAX
from ..validation import MAX_LIFETIME, credentials_well_formed
from ..validation import PUBLISHING_ROLES as _PUBLISHING_ROLES
from . import AccessToken as _AccessToken006
from . import _common
from ._common import PINS, UNPINNED, uid_str
from .AccessToken import *  # noqa: F401,F403  (the official module re-exports these too)

Role_Attendee = 0  # deprecated: treated as a publisher
Role_Publisher = 1  # a host in a live broadcast
Role_Subscriber = 2  # an audience member
Role_Admin = 101  # deprecated: treated as a publisher

#: Roles whose 006 tokens also carry the three publish privileges (Agora's python3 rule,
#: docs/format.md, "006 roles"): the Pythonic builders' set, one home for the rule (RtcRole members
#: equal these ints).
PUBLISHING_ROLES = _PUBLISHING_ROLES


class RtcTokenBuilder:
    """Builds 006 RTC tokens; ``privilegeExpiredTs`` is an absolute Unix time."""

    @staticmethod
    def buildTokenWithUid(
        appId: str, appCertificate: str, channelName: str, uid: Any, role: int, privilegeExpiredTs: int
    ) -> str:
        """A token to join ``channelName`` as the numeric ``uid`` (0: any user)."""
        if not credentials_well_formed(appId, appCertificate):
            return ""
        if type(uid) is not int or not 0 <= uid <= U32_MAX:  # a uid in range goes as it is: the kernel writes it
            uid = uid_str(uid)
        # times(), written out: this is the hottest 006 call, and a call of Python costs a tenth of it.
        issue_ts, salt = PINS.get() if _common.pinning else UNPINNED
        if issue_ts is None:
            issue_ts = trunc(time.time())  # read at each call: frozen clocks hold (trunc: see wire.py)
        # The token itself expires a day after it is issued, as officially.
        ts = issue_ts + MAX_LIFETIME
        return wire.rtc_006(appId, appCertificate, channelName, uid, role in PUBLISHING_ROLES, privilegeExpiredTs, ts,
                            salt)  # fmt: skip

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
