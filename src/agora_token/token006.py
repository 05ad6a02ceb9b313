"""AccessToken, the legacy "006" token: privileges with absolute expiry times (docs/format.md, "006")."""

from __future__ import annotations

import time
from enum import IntEnum
from typing import Optional, Union

from . import _backend
from ._deprecation import renamed
from .certificates import CertificateName, signed_by
from .validation import (
    MAX_LIFETIME,
    check_app_id,
    check_certificate,
    check_hex32,
    check_text,
    check_u16,
    check_u32,
    uid_string,
)


class Privilege006(IntEnum):
    """Privilege ids of 006 tokens."""

    JOIN_CHANNEL = 1
    PUBLISH_AUDIO_STREAM = 2
    PUBLISH_VIDEO_STREAM = 3
    PUBLISH_DATA_STREAM = 4
    ADMINISTRATE_CHANNEL = 101
    RTM_LOGIN = 1000


class AccessToken:
    """A 006 token for one channel and uid; privilege values are absolute Unix times.

    ``salt`` defaults to a fresh random value and ``ts`` (when the token itself expires) to 24 h
    from now (``MAX_LIFETIME``, as in Agora's code); pass them for deterministic output. A parsed
    token knows only the CRCs of its channel and uid, so ``channel_name`` and ``uid`` are ``None``
    until ``verify`` is given them.
    """

    __slots__ = (
        "app_id",
        "_app_certificate",
        "channel_name",
        "uid",
        "salt",
        "ts",
        "privileges",
        "crc_channel_name",
        "crc_uid",
        "_signature",
        "_message",
    )

    def __init__(
        self,
        app_id: str,
        app_certificate: str,
        channel_name: str = "",
        uid: Union[int, str] = 0,
        *,
        salt: Optional[int] = None,
        ts: Optional[int] = None,
    ) -> None:
        self.app_id = check_app_id(app_id)
        self._app_certificate = check_certificate(app_certificate)
        self.channel_name: Optional[str] = check_text("channel_name", channel_name)
        self.uid: Optional[str] = uid_string(uid)
        self.salt = _backend.kernel.random_salt() if salt is None else check_u32("salt", salt)
        self.ts = int(time.time()) + MAX_LIFETIME if ts is None else check_u32("ts", ts)
        self.privileges: dict[int, int] = {}
        self.crc_channel_name: Optional[int] = None
        self.crc_uid: Optional[int] = None
        self._signature: Optional[bytes] = None
        self._message: Optional[bytes] = None

    def add_privilege(self, privilege: int, expire_ts: int) -> None:
        """Grant ``privilege`` until the absolute Unix time ``expire_ts`` (0: no separate limit)."""
        self.privileges[check_u16("privilege", privilege)] = check_u32("expire_ts", expire_ts)

    def build(self) -> str:
        """The signed token string."""
        if self.channel_name is None or self.uid is None or not self._app_certificate:
            raise ValueError("a parsed 006 token cannot be rebuilt: its channel and uid are unknown")
        return _backend.kernel.build_006(
            self.app_id,
            self._app_certificate,
            self.channel_name,
            self.uid,
            self.salt,
            self.ts,
            tuple(sorted(self.privileges.items())),
        )

    @classmethod
    def parse(cls, token: str) -> AccessToken:
        """Decode a 006 token; raises ``TokenError`` if it is malformed."""
        app_id, signature, crc_channel, crc_uid, message, salt, ts, privileges = _backend.kernel.parse_006(token)
        parsed = cls.__new__(cls)
        parsed.app_id = app_id
        parsed._app_certificate = ""
        parsed.channel_name = None
        parsed.uid = None
        parsed.salt = salt
        parsed.ts = ts
        parsed.privileges = dict(privileges)
        parsed.crc_channel_name = crc_channel
        parsed.crc_uid = crc_uid
        parsed._signature = signature
        parsed._message = message
        return parsed

    def matches(self, channel_name: str, uid: Union[int, str]) -> bool:
        """Whether a parsed token's CRCs match this channel and uid (what the SDK checks: error 110)."""
        kernel = _backend.kernel
        return kernel.crc32(check_text("channel_name", channel_name)) == self.crc_channel_name and (
            kernel.crc32(uid_string(uid)) == self.crc_uid
        )

    def verify(
        self, app_certificate: str, channel_name: str, uid: Union[int, str], *,
        secondary_certificate: Optional[str] = None,
    ) -> bool:  # fmt: skip
        """Whether a parsed token was signed with ``app_certificate`` (or ``secondary_certificate``) for this
        channel and uid.

        Checks both CRCs and the HMAC (constant-time); ``signed_by`` tells which certificate signed it.
        """
        signer = self.signed_by(app_certificate, channel_name, uid, secondary_certificate=secondary_certificate)
        return signer is not None

    def signed_by(
        self, app_certificate: str, channel_name: str, uid: Union[int, str], *,
        secondary_certificate: Optional[str] = None,
    ) -> Optional[CertificateName]:  # fmt: skip
        """Which certificate signed a parsed token for this channel and uid: "primary" (``app_certificate``),
        "secondary", or None (neither, or another channel or uid)."""
        check_certificate(app_certificate)
        if self._signature is None or self._message is None:
            raise ValueError("verify() checks a parsed token: use AccessToken.parse(token) first")
        if secondary_certificate is not None:
            check_hex32("secondary_certificate", secondary_certificate)
        if not self.matches(channel_name, uid):
            return None
        app_id, user, message = self.app_id, uid_string(uid), self._message

        def sign(certificate: str) -> bytes:
            return _backend.kernel.sign_006(certificate, app_id, channel_name, user, message)

        return signed_by(self._signature, sign, app_certificate, secondary_certificate)

    def __repr__(self) -> str:
        return (
            f"AccessToken(app_id={self.app_id!r}, channel_name={self.channel_name!r}, uid={self.uid!r}, "
            f"salt={self.salt}, ts={self.ts}, privileges={dict(sorted(self.privileges.items()))})"
        )


__all__ = ["AccessToken", "Privilege006"]

# A 006 token's default lifetime is the one 24-hour constant, ``validation.MAX_LIFETIME``.
__getattr__ = renamed(__name__, {"DEFAULT_TOKEN_LIFETIME": ("agora_token.validation.MAX_LIFETIME", MAX_LIFETIME)})
