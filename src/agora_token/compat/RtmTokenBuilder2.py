"""Drop-in for the official ``RtmTokenBuilder2`` module: 007 RTM tokens (expiry in seconds from now)."""

from __future__ import annotations

from typing import Optional

from .. import services as _services
from . import AccessToken2 as _AccessToken2
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)
from .AccessToken2 import AccessToken, ServiceRtm, ServiceRtm2


class RtmTokenBuilder:
    """Builds 007 RTM tokens."""

    @staticmethod
    def build_token(app_id: str, app_certificate: str, user_id: str, expire: int) -> str:
        """A token to log in to RTM as ``user_id`` for ``expire`` seconds."""
        token = AccessToken(app_id, app_certificate, expire=expire)
        service = ServiceRtm(user_id)
        service.add_privilege(ServiceRtm.kPrivilegeLogin, expire)
        token.add_service(service)
        return token.build()

    @staticmethod
    def build_token_with_permissions(
        app_id: str,
        app_certificate: str,
        user_id: str,
        permissions: Optional[_services.Rtm2Permissions],
        expire: int = 0,
    ) -> str:
        """An RTM2 token for ``user_id`` limited to ``permissions`` (a ``ServiceRtm2.Permissions``)."""
        token = AccessToken(app_id, app_certificate, expire=expire)
        service = ServiceRtm2(user_id, permissions)
        service.add_privilege(ServiceRtm2.kPrivilegeLogin, expire)
        token.add_service(service)
        return token.build()


#: The name the PyPI packaging (agoraiotools) also exports.
RtmTokenBuilder2 = RtmTokenBuilder

__all__ = [*_AccessToken2.__all__, "RtmTokenBuilder", "RtmTokenBuilder2"]
