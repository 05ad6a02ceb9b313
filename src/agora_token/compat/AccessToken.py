"""Drop-in for the official ``AccessToken`` module: the legacy 006 token with official names.

Attributes are public as in Agora's code (``appID``, ``appCertificate``, ``channelName``, ``uidStr``,
``ts``, ``salt``, ``messages``), so code that sets ``token.salt`` or ``token.ts`` before ``build()``
keeps working. The bytes come from the core ``agora_token.token006.AccessToken``. Unlike Agora's
python3 code (and like its C++ and Java code), ``build()`` returns "" when the App ID or the
certificate is not 32 hexadecimal characters instead of signing with it.
"""

from __future__ import annotations

from typing import Any

from ..token006 import AccessToken as _CoreAccessToken
from ..validation import MAX_LIFETIME
from ._common import is_uuid, now, random_salt, uid_str

kJoinChannel = 1
kPublishAudioStream = 2
kPublishVideoStream = 3
kPublishDataStream = 4
kRtmLogin = 1000

VERSION_LENGTH = 3
APP_ID_LENGTH = 32


def getVersion() -> str:
    """The version prefix of AccessToken strings: ``"006"``."""
    return "006"


class AccessToken:
    """An official-style 006 token: ``addPrivilege`` then ``build()``; or ``fromString``.

    ``ts`` (when the token itself expires) defaults to 24 h from now; privilege values are absolute
    Unix times. A uid 0 means any user; a str account is kept as given.
    """

    def __init__(self, appID: str = "", appCertificate: str = "", channelName: str = "", uid: Any = "") -> None:
        """A token for ``channelName`` and ``uid`` with a fresh salt and ``ts`` 24 h from now."""
        self.appID = appID
        self.appCertificate = appCertificate
        self.channelName = channelName
        self.ts = now() + MAX_LIFETIME
        self.salt = random_salt()
        self.messages: dict[int, int] = {}
        self.uidStr = uid_str(uid)

    def addPrivilege(self, privilege: int, expireTimestamp: int) -> None:
        """Grant ``privilege`` until the absolute Unix time ``expireTimestamp``."""
        self.messages[privilege] = expireTimestamp

    def fromString(self, originToken: str) -> bool:
        """Read ``salt``, ``ts`` and ``messages`` from a 006 token; False if it is not one or is corrupt."""
        try:
            if originToken[:VERSION_LENGTH] != getVersion():
                return False
            parsed = _CoreAccessToken.parse(originToken)
        except Exception:
            return False
        self.salt, self.ts, self.messages = parsed.salt, parsed.ts, dict(parsed.privileges)
        return True

    def build(self) -> str:
        """The token string, or "" if the App ID or certificate is not 32 hexadecimal characters."""
        if not is_uuid(self.appID) or not is_uuid(self.appCertificate):
            return ""
        token = _CoreAccessToken(
            self.appID, self.appCertificate, self.channelName, self.uidStr, salt=self.salt, ts=self.ts
        )
        for privilege, expire in self.messages.items():
            token.add_privilege(int(privilege), int(expire))
        return token.build()


__all__ = [
    "APP_ID_LENGTH",
    "VERSION_LENGTH",
    "AccessToken",
    "getVersion",
    "kJoinChannel",
    "kPublishAudioStream",
    "kPublishDataStream",
    "kPublishVideoStream",
    "kRtmLogin",
]
