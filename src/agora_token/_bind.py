"""One implementation behind several public functions that differ only by a leading argument."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # for type checkers only: ParamSpec is Python 3.10+
    from typing import TypeVar

    from typing_extensions import Concatenate, ParamSpec

    _P = ParamSpec("_P")
    _T = TypeVar("_T")


def bind_first(impl: Callable[Concatenate[_T, _P], str], first: _T, name: str, doc: str) -> Callable[_P, str]:
    """``impl`` with its first argument bound to ``first``, named ``name``: a public builder whose signature
    (for ``inspect`` and type checkers) is ``impl``'s without that argument.

    It makes the builders that differ only by the service they add (RTC+RTM, ConvoAI, STT; in this
    API and in compat) or by a prefix (DynamicKey v2 and v3) from one implementation each. It is a
    ``functools.partial``, which binds in C: a Python wrapper (``*args, **kwargs``) cost 4,000
    instructions a call, 6 % of an RTC+RTM token; the partial costs 200. ``help()`` shows it as
    the partial it is, with this name and ``doc``; ``inspect.signature`` gives the builder's own.
    """
    bound = functools.partial(impl, first)
    # A partial has a __dict__: the name, module (where it is bound: for pickle, help() and the
    # docs) and docstring of the builder it stands for.
    vars(bound).update(__name__=name, __qualname__=name, __module__=impl.__module__, __doc__=doc)
    return bound
