"""Nothing inside the package imports the package's top level (DESIGN: nothing imports upward).

``agora_token/__init__`` imports every part; a part that imported a name back from it (as the CLI
and the server did with ``__version__``) would depend on the import order of the whole package.
Submodules may be reached through the root (``from .. import _backend``); names defined in
``__init__`` may not.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import List

import agora_token

PACKAGE = Path(agora_token.__file__).resolve().parent


def _root_imports(path: Path) -> List[str]:
    """``name`` for every ``from <root> import name`` in ``path`` that is not a submodule of the root."""
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for a module directly in the package
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            to_root = (node.level == depth + 1 and not node.module) or (node.level == 0 and node.module == "agora_token")
            if to_root:
                for alias in node.names:
                    # A submodule: a source, a built kernel or its .pyx, a subpackage, or the file the build writes.
                    submodule = any(PACKAGE.glob(f"{alias.name}.*")) or (PACKAGE / alias.name).is_dir()
                    if not (submodule or alias.name == "_build_info"):
                        found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {alias.name}")
        elif isinstance(node, ast.Import):
            found += [f"{path.relative_to(PACKAGE)}:{node.lineno}: import {a.name}" for a in node.names if a.name == "agora_token"]
    return found


def test_no_module_imports_a_name_from_the_package_top_level():
    offenders = [hit for path in sorted(PACKAGE.rglob("*.py")) if path.name != "__init__.py" or path.parent != PACKAGE
                 for hit in _root_imports(path)]  # fmt: skip
    assert offenders == []


def test_version_has_one_home():
    from agora_token._version import __version__

    assert agora_token.__version__ is __version__
    assert "__version__ = " not in (PACKAGE / "__init__.py").read_text()


def test_the_package_exports_every_builder():
    """builders.__all__ is every ``build_*`` function; the root names each one explicitly (type checkers)."""
    from agora_token import builders

    assert "build_rtc_token" in builders.__all__ and "build_stt_token" in builders.__all__
    assert set(builders.__all__) >= {n for n in vars(builders) if n.startswith("build_")}
    assert set(builders.__all__) <= set(agora_token.__all__)
    assert all(getattr(agora_token, n) is getattr(builders, n) for n in builders.__all__)
