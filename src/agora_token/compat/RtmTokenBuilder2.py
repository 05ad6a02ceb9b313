"""Drop-in for the official ``RtmTokenBuilder2`` module: 007 RTM tokens (expiry in seconds from now)."""

from __future__ import annotations

from typing import Optional

from .. import services as _services
from .. import wire
from ..validation import check_text, credentials_well_formed
from . import AccessToken2 as _AccessToken2
from ._common import expire_value, pins
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)

#: The wire form of no permissions at all (the official builder's default).
_NO_PERMISSIONS = _services.Rtm2Permissions().to_wire()


class RtmTokenBuilder:
    """Builds 007 RTM tokens (the Pythonic ``build_rtm_token``'s, from the official arguments)."""

    @staticmethod
    def build_token(app_id: str, app_certificate: str, user_id: str, expire: int) -> str:
        """A token to log in to RTM as ``user_id`` for ``expire`` seconds."""
        user_id = check_text("user_id", user_id)
        expire = expire_value(expire)
        if not credentials_well_formed(app_id, app_certificate):
            return ""
        return wire.grant_007(app_id, app_certificate, wire.RTM_LOGIN, (user_id,), expire, expire, *pins())

    @staticmethod
    def build_token_with_permissions(
        app_id: str,
        app_certificate: str,
        user_id: str,
        permissions: Optional[_services.Rtm2Permissions],
        expire: int = 0,
    ) -> str:
        """An RTM2 token for ``user_id`` limited to ``permissions`` (a ``ServiceRtm2.Permissions``)."""
        user_id = _services.rtm2_user_id(user_id)
        scope = _NO_PERMISSIONS if permissions is None else _services.check_permissions(permissions).to_wire()
        expire = expire_value(expire)
        if not credentials_well_formed(app_id, app_certificate):
            return ""
        return wire.grant_007(app_id, app_certificate, wire.RTM2_LOGIN, (user_id, *scope), expire, expire,
                                  *pins())  # fmt: skip


#: The name the PyPI packaging (agoraiotools) also exports.
RtmTokenBuilder2 = RtmTokenBuilder

__all__ = [*_AccessToken2.__all__, "RtmTokenBuilder", "RtmTokenBuilder2"]
