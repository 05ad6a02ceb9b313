"""Chooses the token kernel once: the C extension when it imports, else pure Python.

Kept apart from ``__init__`` so the token model can reach the kernel without importing the
package's top level (nothing imports upward). Tests swap ``kernel`` to run both backends.
``reason`` says why pure Python runs (None with the C kernel): the build records why it skipped
the extension in ``_build_info``, so an install that fell back can say so at run time.
"""

from __future__ import annotations

import os
from typing import Literal, Optional

from . import _pure
from ._kernel_api import Kernel

#: Which kernel runs: the C extension or the pure-Python mirror.
BackendName = Literal["c", "python"]


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def build_skip_reason() -> Optional[str]:
    """Why the build of this installed copy skipped the C extension, if it recorded one."""
    try:
        from . import _build_info
    except ImportError:  # a source checkout never built, or a build from before the record existed
        return None
    return getattr(_build_info, "EXTENSION_SKIPPED", None)


def _choose() -> tuple[Kernel, BackendName, Optional[str]]:
    if _truthy("AGORA_TOKEN_PURE_PYTHON"):
        return _pure, "python", "AGORA_TOKEN_PURE_PYTHON is set"
    try:
        from . import _fastpack
    except ImportError as exc:
        if _truthy("AGORA_TOKEN_REQUIRE_EXTENSION"):
            raise  # a silent fall-back would hide a broken build
        skipped = build_skip_reason()
        if skipped:
            return _pure, "python", f"the C extension was not built: {skipped}"
        return _pure, "python", f"the C extension does not import: {exc}"
    return _fastpack, "c", None


# Typed by the Protocol rather than as a module: whatever reaches the kernel is held to its interface.
kernel: Kernel
name: BackendName
reason: Optional[str]
kernel, name, reason = _choose()


def describe() -> str:
    """The backend in use, and for pure Python why: ``"c"`` or ``"python (…reason…)"``."""
    if name == "c":
        return "c"
    return f"python ({reason or 'chosen at run time'})"
