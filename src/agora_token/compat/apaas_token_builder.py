"""Drop-in for the official ``apaas_token_builder`` module: 007 Flexible Classroom (APaaS) tokens."""

from __future__ import annotations

from .. import builders as _builders
from .. import wire
from ..validation import check_int, check_text, credentials_well_formed
from . import AccessToken2 as _AccessToken2
from ._common import expire_value, pins
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)


def get_md5(data: str) -> str:
    """The lowercase hex MD5 of ``data`` (the official ``utils.get_md5``): a Chat user id for an APaaS user."""
    return _builders.chat_user_id(data)


def _checked(room_uuid: str, user_uuid: str, role: int, expire: int) -> tuple[str, str, int, int]:
    """The official builders' APaaS fields and lifetime, checked as the core service checks them."""
    room_uuid = check_text("room_uuid", room_uuid)
    return room_uuid, check_text("user_uuid", user_uuid), check_int("role", role, -0x8000, 0x7FFF), expire_value(expire)


class ApaasTokenBuilder:
    """Builds 007 APaaS tokens (expiry in seconds from now): the Pythonic builders' tokens."""

    @staticmethod
    def build_room_user_token(
        app_id: str, app_certificate: str, room_uuid: str, user_uuid: str, role: int, expire: int
    ) -> str:
        """A token for ``user_uuid`` in ``room_uuid``, with RTM login and Chat as ``md5(user_uuid)``."""
        room_uuid, user_uuid, role, expire = _checked(room_uuid, user_uuid, role, expire)
        if not credentials_well_formed(app_id, app_certificate):
            return ""
        return wire.apaas_room_user_007(
            app_id, app_certificate, room_uuid, user_uuid, role, get_md5(user_uuid), expire, *pins()
        )

    @staticmethod
    def build_user_token(app_id: str, app_certificate: str, user_uuid: str, expire: int) -> str:
        """A token for ``user_uuid`` outside any room."""
        user_uuid = check_text("user_uuid", user_uuid)  # no room, role -1: nothing else to check
        expire = expire_value(expire)
        if not credentials_well_formed(app_id, app_certificate):
            return ""
        fields = ("", user_uuid, -1)
        return wire.grant_007(app_id, app_certificate, wire.APAAS_USER, fields, expire, expire, *pins())

    @staticmethod
    def build_app_token(app_id: str, app_certificate: str, expire: int) -> str:
        """A token for the app itself."""
        expire = expire_value(expire)
        if not credentials_well_formed(app_id, app_certificate):
            return ""
        return wire.grant_007(app_id, app_certificate, wire.APAAS_APP, ("", "", -1), expire, expire, *pins())


__all__ = [*_AccessToken2.__all__, "ApaasTokenBuilder", "get_md5"]
