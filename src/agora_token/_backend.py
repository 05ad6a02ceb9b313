"""Chooses the token kernel once: the C extension when it imports, else pure Python.

Kept apart from ``__init__`` so the token model can reach the kernel without importing the
package's top level (nothing imports upward). Tests swap ``kernel`` to run both backends.
"""

from __future__ import annotations

import os
from types import ModuleType

from . import _pure


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _choose() -> tuple[ModuleType, str]:
    if _truthy("AGORA_TOKEN_PURE_PYTHON"):
        return _pure, "python"
    try:
        from . import _fastpack
    except ImportError:
        if _truthy("AGORA_TOKEN_REQUIRE_EXTENSION"):
            raise  # a silent fall-back would hide a broken build
        return _pure, "python"
    return _fastpack, "c"


kernel, name = _choose()
