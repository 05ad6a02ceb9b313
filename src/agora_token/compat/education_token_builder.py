"""Drop-in for the official ``education_token_builder`` module: the APaaS builders under their Education name."""

from __future__ import annotations

from . import AccessToken2 as _AccessToken2
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)
from .apaas_token_builder import ApaasTokenBuilder, get_md5


class EducationTokenBuilder(ApaasTokenBuilder):
    """Builds 007 Education tokens: exactly the APaaS tokens (``build_room_user_token`` and the rest)."""


__all__ = [*_AccessToken2.__all__, "EducationTokenBuilder", "get_md5"]
