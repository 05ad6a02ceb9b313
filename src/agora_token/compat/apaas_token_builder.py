"""Drop-in for the official ``apaas_token_builder`` module: 007 Flexible Classroom (APaaS) tokens."""

from __future__ import annotations

from .. import builders as _builders
from .. import fastpath
from ..services import ApaasPrivilege
from ..validation import check_int, check_text
from . import AccessToken2 as _AccessToken2
from ._common import expire_value, pins
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)


def get_md5(data: str) -> str:
    """The lowercase hex MD5 of ``data`` (the official ``utils.get_md5``): a Chat user id for an APaaS user."""
    return _builders.chat_user_id(data)


def _apaas_token(
    app_id: str, app_certificate: str, room_uuid: str, user_uuid: str, role: int, privilege: int, expire: int
) -> str:
    """The Pythonic APaaS token from the official arguments; a room user's also logs in to RTM and Chat."""
    room_uuid = check_text("room_uuid", room_uuid)
    user_uuid = check_text("user_uuid", user_uuid)
    role = check_int("role", role, -0x8000, 0x7FFF)
    expire = expire_value(expire)
    if not fastpath.credentials_well_formed(app_id, app_certificate):
        return ""
    chat_user = get_md5(user_uuid) if privilege == ApaasPrivilege.ROOM_USER else None
    issue_ts, salt = pins()
    return fastpath.apaas_007(app_id, app_certificate, room_uuid, user_uuid, role, privilege, expire, issue_ts, salt,
                              chat_user)  # fmt: skip


class ApaasTokenBuilder:
    """Builds 007 APaaS tokens (expiry in seconds from now)."""

    @staticmethod
    def build_room_user_token(
        app_id: str, app_certificate: str, room_uuid: str, user_uuid: str, role: int, expire: int
    ) -> str:
        """A token for ``user_uuid`` in ``room_uuid``, with RTM login and Chat as ``md5(user_uuid)``."""
        return _apaas_token(app_id, app_certificate, room_uuid, user_uuid, role, ApaasPrivilege.ROOM_USER, expire)

    @staticmethod
    def build_user_token(app_id: str, app_certificate: str, user_uuid: str, expire: int) -> str:
        """A token for ``user_uuid`` outside any room."""
        return _apaas_token(app_id, app_certificate, "", user_uuid, -1, ApaasPrivilege.USER, expire)

    @staticmethod
    def build_app_token(app_id: str, app_certificate: str, expire: int) -> str:
        """A token for the app itself."""
        return _apaas_token(app_id, app_certificate, "", "", -1, ApaasPrivilege.APP, expire)


__all__ = [*_AccessToken2.__all__, "ApaasTokenBuilder", "get_md5"]
