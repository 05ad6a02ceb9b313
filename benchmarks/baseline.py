"""Extract another revision's server package, importable beside this one, to measure old against new.

    python benchmarks/baseline.py main /tmp/baseline        # prints the directory to put on PYTHONPATH
    PYTHONPATH=/tmp/baseline python benchmarks/server_load.py --server-package agora_token_baseline_server

The copy is ``src/agora_token/server`` of REV as package ``agora_token_baseline_server``: its relative
imports of the rest of agora_token (``from ..builders import ...``) are pointed at the installed
agora_token, so only the server code differs between the two runs.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Optional

PACKAGE = "agora_token_baseline_server"
SOURCE = "src/agora_token/server"


def extract(rev: str, target: Path, repo: Path) -> Path:
    """Write REV's server package to ``target/PACKAGE``; return that folder."""
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev, SOURCE], check=True, capture_output=True).stdout
    out = target / PACKAGE
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.endswith(".py"):
                continue
            text = tar.extractfile(member).read().decode()  # type: ignore[union-attr]
            # Two dots reached agora_token from inside agora_token.server: now the installed package.
            text = re.sub(r"^(\s*)from \.\. import ", r"\1from agora_token import ", text, flags=re.M)
            text = re.sub(r"^(\s*)from \.\.(\w)", r"\1from agora_token.\2", text, flags=re.M)
            text = text.replace('"agora_token.server:app"', f'"{PACKAGE}:app"')
            (out / Path(member.name).name).write_text(text)
    return out


def main(argv: Optional[list[str]] = None) -> int:
    """Extract and print the PYTHONPATH entry."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev", help="git revision, e.g. main")
    parser.add_argument("target", type=Path, help="directory to write the package into")
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    extract(args.rev, args.target, args.repo)
    print(args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
