"""Drop-in for the official ``ChatTokenBuilder2`` module: 007 Agora Chat tokens."""

from __future__ import annotations

from .. import wire
from ..validation import check_text, credentials_well_formed
from . import AccessToken2 as _AccessToken2
from ._common import expire_value, pins
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)


def _chat_token(app_id: str, app_certificate: str, user_id: str, grant: wire.Grant, expire: int) -> str:
    """The token of ``grant`` for ``user_id`` (checked by the caller; "" for the app)."""
    expire = expire_value(expire)
    if not credentials_well_formed(app_id, app_certificate):
        return ""
    return wire.grant_007(app_id, app_certificate, grant, (user_id,), expire, expire, *pins())


class ChatTokenBuilder:
    """Builds 007 Chat tokens (expiry in seconds from now): the Pythonic builders' tokens."""

    @staticmethod
    def build_user_token(app_id: str, app_certificate: str, user_id: str, expire: int) -> str:
        """A Chat token for the user ``user_id``."""
        return _chat_token(app_id, app_certificate, check_text("user_id", user_id), wire.CHAT_USER, expire)

    @staticmethod
    def build_app_token(app_id: str, app_certificate: str, expire: int) -> str:
        """A Chat token for the app itself (REST API)."""
        return _chat_token(app_id, app_certificate, "", wire.CHAT_APP, expire)


#: The name the PyPI packaging (agoraiotools) also exports.
ChatTokenBuilder2 = ChatTokenBuilder

__all__ = [*_AccessToken2.__all__, "ChatTokenBuilder", "ChatTokenBuilder2"]
