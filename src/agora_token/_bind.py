"""One implementation behind several public functions that differ only by a leading argument."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # for type checkers only: ParamSpec is Python 3.10+
    from typing import TypeVar

    from typing_extensions import Concatenate, ParamSpec

    _P = ParamSpec("_P")
    _T = TypeVar("_T")


def bind_first(impl: Callable[Concatenate[_T, _P], str], first: _T, name: str, doc: str) -> Callable[_P, str]:
    """``impl`` with its first argument bound to ``first``, named ``name``: a public builder whose signature
    (for ``help``, ``inspect`` and type checkers) is ``impl``'s without that argument.

    It makes the builders that differ only by the service they add (RTC+RTM, ConvoAI, STT; in this
    API and in compat) or by a prefix (DynamicKey v2 and v3) from one implementation each.
    """

    def build(*args: _P.args, **kwargs: _P.kwargs) -> str:
        return impl(first, *args, **kwargs)

    build.__name__ = build.__qualname__ = name
    build.__module__ = impl.__module__  # where it is bound: for pickle, help() and the docs
    build.__doc__ = doc
    # A function has no declared __signature__, but inspect reads one set on it.
    build.__signature__ = inspect.signature(functools.partial(impl, first))  # type: ignore[attr-defined]
    return build
