"""Old public names kept working for a while: each still gives its value, with a DeprecationWarning
that names what to use instead."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Callable


def renamed(module: str, old_names: Mapping[str, tuple[str, object]]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``old_names``: old name -> (what to use now, the value)."""

    def __getattr__(name: str) -> object:
        if name in old_names:
            use, value = old_names[name]
            warnings.warn(f"{module}.{name} is deprecated; use {use}", DeprecationWarning, stacklevel=2)
            return value
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
