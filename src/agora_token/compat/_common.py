"""Rules the compat modules share: the official uid conversion, the uuid check and the random draws."""

from __future__ import annotations

import time
from typing import Any

from .. import _backend
from ..validation import is_hex32, uid_string


def uid_str(uid: Any, name: str = "uid") -> str:
    """The official uid conversion: ``uid == 0`` gives "" (any user), a str is kept, else ``str(uid)``.

    An int or str goes through the core rule (so an int must fit 32 bits unsigned); anything else
    (``False``, a float...) is converted the way Agora's code does it.
    """
    if type(uid) is str:
        return uid
    if type(uid) is int and 0 < uid <= 0xFFFFFFFF:  # the common case, on every token's hot path
        return str(uid)
    if isinstance(uid, (str, int)) and not isinstance(uid, bool):
        return uid_string(uid, name)
    return "" if uid == 0 else str(uid)


#: Whether a value is an App ID / App Certificate: 32 hexadecimal characters (the core's rule).
is_uuid = is_hex32


def now() -> int:
    """The current Unix time in whole seconds (read through ``time.time`` so tests can pin it)."""
    return int(time.time())


def random_salt() -> int:
    """A fresh salt from the kernel in use (looked up at call time so tests can pin it)."""
    return int(_backend.kernel.random_salt())
