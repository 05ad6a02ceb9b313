"""Rules the compat modules share: the official uid conversion, the uuid check and the random draws."""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from math import trunc
from typing import Any, Optional

from .. import _backend
from ..validation import check_u32, is_hex32, uid_string

#: ``PINS``' value outside any ``pinned()`` block: this very object, so ``PINS.get() is UNPINNED``
#: is the cheapest test for a token server's common case.
UNPINNED: tuple[Optional[int], Optional[int]] = (None, None)
#: (issue_ts, salt) pinned by ``pinned()`` in this thread or task; None for a value left free.
PINS: contextvars.ContextVar[tuple[Optional[int], Optional[int]]] = contextvars.ContextVar(
    "agora_token_compat_pins", default=UNPINNED
)
#: Whether a ``pinned()`` block was ever entered in this process. Until one is, no context holds
#: pins and a builder need not read ``PINS`` (a context variable read costs a tenth of the Python
#: work of a 006 token): ``PINS.get() if _common.pinning else UNPINNED``. It is never reset, so a
#: task or thread that copied its context inside a block keeps the pins after the block ends.
pinning = False


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


def expire_value(value: Any) -> int:
    """A lifetime or privilege value of the official builders: an int that fits 32 bits unsigned.

    The same check (and error) as when the value went through the core ``add_privilege``.
    """
    if type(value) is int and 0 <= value <= 0xFFFFFFFF:  # the common case, on every token's hot path
        return value
    return check_u32("expire", value)


#: Whether a value is an App ID / App Certificate: 32 hexadecimal characters (the core's rule).
is_uuid = is_hex32


@contextlib.contextmanager
def pinned(issue_ts: Optional[int] = None, salt: Optional[int] = None) -> Iterator[None]:
    """Inside the ``with`` block, compat tokens use this issue time and salt instead of now and a random draw.

    For reproducible output and for checking byte identity with Agora's code, which takes the same
    two values; a ``None`` leaves that value free. A 006 token's own expiry ``ts`` is then
    ``issue_ts`` + 24 h, as the official code sets it from the clock. The pin holds for the current
    thread or asyncio task only (a context variable), and nesting works.
    """
    global pinning
    pins = (
        None if issue_ts is None else check_u32("issue_ts", issue_ts),
        None if salt is None else check_u32("salt", salt),
    )
    pinning = True  # before the pins are set: this thread reads the flag, then the pins
    token = PINS.set(pins)
    try:
        yield
    finally:
        PINS.reset(token)


def pins() -> tuple[Optional[int], Optional[int]]:
    """The pinned ``(issue_ts, salt)``; None for each value not pinned (the kernel then chooses)."""
    return PINS.get() if pinning else UNPINNED


def times() -> tuple[int, Optional[int]]:
    """The pinned issue time, else now, and the pinned salt, else None (the kernel then draws one).

    Now is read through ``time.time`` at each call, so a frozen clock (``unittest.mock``,
    freezegun, time-machine) holds for compat tokens too.
    """
    issue_ts, salt = PINS.get() if pinning else UNPINNED
    return (trunc(time.time()) if issue_ts is None else issue_ts), salt


def now() -> int:
    """The pinned issue time, else the current Unix time in whole seconds (read through ``time.time``)."""
    return times()[0]


def random_salt() -> int:
    """The pinned salt, else a fresh one from the kernel in use (looked up at call time)."""
    salt = (PINS.get() if pinning else UNPINNED)[1]
    return int(_backend.kernel.random_salt()) if salt is None else salt
