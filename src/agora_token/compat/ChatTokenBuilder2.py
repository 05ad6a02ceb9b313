"""Drop-in for the official ``ChatTokenBuilder2`` module: 007 Agora Chat tokens."""

from __future__ import annotations

from . import AccessToken2 as _AccessToken2
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)
from .AccessToken2 import AccessToken, ServiceChat


class ChatTokenBuilder:
    """Builds 007 Chat tokens (expiry in seconds from now)."""

    @staticmethod
    def build_user_token(app_id: str, app_certificate: str, user_id: str, expire: int) -> str:
        """A Chat token for the user ``user_id``."""
        token = AccessToken(app_id, app_certificate, expire=expire)
        service = ServiceChat(user_id)
        service.add_privilege(ServiceChat.kPrivilegeUser, expire)
        token.add_service(service)
        return token.build()

    @staticmethod
    def build_app_token(app_id: str, app_certificate: str, expire: int) -> str:
        """A Chat token for the app itself (REST API)."""
        token = AccessToken(app_id, app_certificate, expire=expire)
        service = ServiceChat()
        service.add_privilege(ServiceChat.kPrivilegeApp, expire)
        token.add_service(service)
        return token.build()


#: The name the PyPI packaging (agoraiotools) also exports.
ChatTokenBuilder2 = ChatTokenBuilder

__all__ = [*_AccessToken2.__all__, "ChatTokenBuilder", "ChatTokenBuilder2"]
