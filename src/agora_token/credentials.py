"""Where the App ID and App Certificate come from in the environment: one rule for the CLI and the server.

Each is read from the first of its variables that is set to a non-blank value: the short names of
agora-token-service (``APP_ID``, ``APP_CERTIFICATE``) first, then the ``AGORA_`` ones. Stdlib only,
so the CLI can read it without the server's dependencies. The secondary certificate (a project has
two, so that one can be rotated) is read the same way by the commands that check tokens.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Variables holding the App ID, in order of precedence.
APP_ID_VARS: tuple[str, str] = ("APP_ID", "AGORA_APP_ID")
#: Variables holding the App Certificate, in order of precedence.
CERTIFICATE_VARS: tuple[str, str] = ("APP_CERTIFICATE", "AGORA_APP_CERTIFICATE")
#: Variables holding the project's secondary App Certificate (checking tokens: ``verify``, ``inspect``).
SECONDARY_CERTIFICATE_VARS: tuple[str, str] = ("APP_CERTIFICATE_SECONDARY", "AGORA_APP_CERTIFICATE_SECONDARY")


def first_set(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str]:
    """The first of ``names`` set to a non-blank value, as (name, stripped value); ("", "") if none is."""
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return "", ""


def spelled(names: tuple[str, ...]) -> str:
    """``names`` as a message names them: ``APP_ID (or AGORA_APP_ID)``."""
    return f"{names[0]} (or {' or '.join(names[1:])})" if len(names) > 1 else names[0]


__all__ = ["APP_ID_VARS", "CERTIFICATE_VARS", "SECONDARY_CERTIFICATE_VARS", "first_set", "spelled"]
