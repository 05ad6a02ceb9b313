"""Drop-in for the official ``apaas_token_builder`` module: 007 Flexible Classroom (APaaS) tokens."""

from __future__ import annotations

from .. import builders as _builders
from . import AccessToken2 as _AccessToken2
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)
from .AccessToken2 import AccessToken, ServiceApaas, ServiceChat, ServiceRtm


def get_md5(data: str) -> str:
    """The lowercase hex MD5 of ``data`` (the official ``utils.get_md5``): a Chat user id for an APaaS user."""
    return _builders.chat_user_id(data)


class ApaasTokenBuilder:
    """Builds 007 APaaS tokens (expiry in seconds from now)."""

    @staticmethod
    def build_room_user_token(
        app_id: str, app_certificate: str, room_uuid: str, user_uuid: str, role: int, expire: int
    ) -> str:
        """A token for ``user_uuid`` in ``room_uuid``, with RTM login and Chat as ``md5(user_uuid)``."""
        token = AccessToken(app_id, app_certificate, expire=expire)
        apaas = ServiceApaas(room_uuid, user_uuid, role)
        apaas.add_privilege(ServiceApaas.kPrivilegeRoomUser, expire)
        token.add_service(apaas)
        rtm = ServiceRtm(user_uuid)
        rtm.add_privilege(ServiceRtm.kPrivilegeLogin, expire)
        token.add_service(rtm)
        chat = ServiceChat(get_md5(user_uuid))
        chat.add_privilege(ServiceChat.kPrivilegeUser, expire)
        token.add_service(chat)
        return token.build()

    @staticmethod
    def build_user_token(app_id: str, app_certificate: str, user_uuid: str, expire: int) -> str:
        """A token for ``user_uuid`` outside any room."""
        token = AccessToken(app_id, app_certificate, expire=expire)
        apaas = ServiceApaas(user_uuid=user_uuid)
        apaas.add_privilege(ServiceApaas.kPrivilegeUser, expire)
        token.add_service(apaas)
        return token.build()

    @staticmethod
    def build_app_token(app_id: str, app_certificate: str, expire: int) -> str:
        """A token for the app itself."""
        token = AccessToken(app_id, app_certificate, expire=expire)
        apaas = ServiceApaas()
        apaas.add_privilege(ServiceApaas.kPrivilegeApp, expire)
        token.add_service(apaas)
        return token.build()


__all__ = [*_AccessToken2.__all__, "ApaasTokenBuilder", "get_md5"]
