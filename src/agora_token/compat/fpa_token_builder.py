"""Drop-in for the official ``fpa_token_builder`` module: 007 FPA tokens."""

from __future__ import annotations

from .. import builders as _builders
from . import AccessToken2 as _AccessToken2
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)
from .AccessToken2 import AccessToken, ServiceFpa


class FpaTokenBuilder:
    """Builds 007 FPA tokens."""

    @staticmethod
    def build_token(app_id: str, app_certificate: str) -> str:
        """A token to log in to FPA, valid for 24 hours."""
        token = AccessToken(app_id, app_certificate, expire=_builders.FPA_EXPIRE)
        service = ServiceFpa()
        service.add_privilege(ServiceFpa.kPrivilegeLogin, 0)
        token.add_service(service)
        return token.build()


__all__ = [*_AccessToken2.__all__, "FpaTokenBuilder"]
