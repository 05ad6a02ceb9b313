"""A griffe extension for the API reference (mkdocs.yml, mkdocstrings): the public builders that
``agora_token.builders`` makes at import time are documented as the functions they are.

The reference is read from the sources, where ``build_stt_token = bind_first(...)`` (a builder bound to its
service by ``agora_token._bind``) and ``build_education_user_token = build_apaas_user_token`` are
assignments. For each such name this replaces the assignment by what importing the module gives: the
function with the signature and docstring that ``help()`` shows, or an alias of the builder it names.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any

import griffe

#: The modules whose module-level functions may be made at import time.
MODULES = ("agora_token.builders",)


def _is_builder(value: object) -> bool:
    """A function, or a builder that ``bind_first`` made (a ``functools.partial``, which griffe inspects
    as the function it stands for: its own signature without the bound argument, its name and docstring)."""
    return inspect.isfunction(value) or isinstance(value, functools.partial)


class RuntimeFunctions(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name != "agora_token":
            return
        for path in MODULES:
            module = pkg[path.split(".", 1)[1]]
            runtime = importlib.import_module(path)
            made = [
                name
                for name, member in module.members.items()
                if not member.is_alias and member.is_attribute and _is_builder(getattr(runtime, name, None))
            ]
            if not made:
                continue
            inspected = griffe.inspect(path, docstring_parser=loader.docstring_parser)
            for name in made:
                module.set_member(name, inspected[name])
