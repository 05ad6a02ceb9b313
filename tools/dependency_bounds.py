"""Print pip constraints that pin each dependency of pyproject.toml's extras to one end of its range.

    python tools/dependency_bounds.py lowest server   # "starlette==0.37", "uvicorn==0.29", ...

``lowest`` pins every requirement that has a lower bound (``>=``) to that bound, markers kept, so
that pip installs the oldest releases the package claims to work with. tools/deps.sh uses it.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10 and older
    import tomli as tomllib

from packaging.requirements import Requirement


def lowest(requirement: str) -> str | None:
    """``name==lower bound; marker`` for a requirement with a ``>=`` bound, else None."""
    req = Requirement(requirement)
    bounds = [spec.version for spec in req.specifier if spec.operator == ">="]
    if not bounds:
        return None
    marker = f"; {req.marker}" if req.marker else ""
    return f"{req.name}=={bounds[0]}{marker}"


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "lowest":
        print(__doc__.strip(), file=sys.stderr)
        return 2
    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    extras = project["project"]["optional-dependencies"]
    for extra in argv[1:]:
        for requirement in extras[extra]:
            pinned = lowest(requirement)
            if pinned:
                print(pinned)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
