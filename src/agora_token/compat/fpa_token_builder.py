"""Drop-in for the official ``fpa_token_builder`` module: 007 FPA tokens."""

from __future__ import annotations

from .. import wire
from ..validation import MAX_LIFETIME, credentials_well_formed
from . import AccessToken2 as _AccessToken2
from ._common import pins
from .AccessToken2 import *  # noqa: F401,F403  (the official module re-exports these too)


class FpaTokenBuilder:
    """Builds 007 FPA tokens."""

    @staticmethod
    def build_token(app_id: str, app_certificate: str) -> str:
        """A token to log in to FPA, valid for 24 hours (the Pythonic ``build_fpa_token``'s)."""
        if not credentials_well_formed(app_id, app_certificate):
            return ""
        return wire.grant_007(app_id, app_certificate, wire.FPA_LOGIN, (), 0, MAX_LIFETIME, *pins())


__all__ = [*_AccessToken2.__all__, "FpaTokenBuilder"]
