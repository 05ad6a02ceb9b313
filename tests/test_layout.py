"""Nothing inside the package imports the package's top level (CONTRIBUTING.md: nothing imports upward).

``agora_token/__init__`` imports every part; a part that imported a name back from it (as the CLI
and the server did with ``__version__``) would depend on the import order of the whole package.
Submodules may be reached through the root (``from .. import _backend``); names defined in
``__init__`` may not.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import agora_token

PACKAGE = Path(agora_token.__file__).resolve().parent


def _root_imports(path: Path) -> list[str]:
    """``name`` for every ``from <root> import name`` in ``path`` that is not a submodule of the root."""
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for a module directly in the package
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            to_root = (node.level == depth + 1 and not node.module) or (
                node.level == 0 and node.module == "agora_token"
            )
            if to_root:
                for alias in node.names:
                    # A submodule: a source, a built kernel or its .pyx, a subpackage, or the file the build writes.
                    submodule = any(PACKAGE.glob(f"{alias.name}.*")) or (PACKAGE / alias.name).is_dir()
                    if not (submodule or alias.name == "_build_info"):
                        found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {alias.name}")
        elif isinstance(node, ast.Import):
            found += [
                f"{path.relative_to(PACKAGE)}:{node.lineno}: import {a.name}"
                for a in node.names
                if a.name == "agora_token"
            ]
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


ROOT = Path(__file__).resolve().parent.parent
FORMAT = ROOT / "docs" / "format.md"
#: Where the code cites the format: the package (as installed) and the checkout's other code.
CITING = [PACKAGE, ROOT / "tests", ROOT / "fuzz", ROOT / "tools", ROOT / "benchmarks"]
#: A citation: the page's path, a comma and a heading in double quotes, which may wrap over lines.
_CITATION = re.compile(r'docs/format\.md,\s*(?:#:?\s*)?"([^"]+)"')


def _cited_headings() -> list[str]:
    found = []
    for directory in CITING:
        for path in sorted(directory.rglob("*")):
            if path.suffix in {".py", ".pyx", ".pxi", ".pyi", ".pxd", ".c", ".h", ".sh"} and path.name != "_fastpack.c":
                text = path.read_text(encoding="utf-8")
                found += [" ".join(re.sub(r"\s+#:?\s*|\s+\*\s*", " ", h).split()) for h in _CITATION.findall(text)]
    return found


def test_every_citation_of_the_format_names_a_heading_of_it():
    """Code comments cite docs/format.md by heading; each must exist (and no document outside the
    repository is cited)."""
    if not FORMAT.exists():
        pytest.skip("not a checkout: docs/format.md is not beside the tests")
    headings = {
        line.lstrip("#").strip() for line in FORMAT.read_text(encoding="utf-8").splitlines() if line.startswith("#")
    }
    cited = _cited_headings()
    assert len(cited) > 20, "the citations were not found"
    assert sorted(set(cited) - headings) == []
    old = re.compile("SPEC " + "§|[(]DESIGN")  # split, so this line does not match itself
    stale = [str(p) for d in CITING for p in d.rglob("*.py") if old.search(p.read_text(encoding="utf-8"))]
    assert stale == []
