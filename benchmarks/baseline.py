"""Another revision of agora-token, installed whole in a virtual environment of its own, to measure old against new.

    python benchmarks/baseline.py c8dc808               # prints that environment's python
    python benchmarks/server_load.py --baseline c8dc808  # this checkout's server against it, in one run
    python benchmarks/attack.py --baseline c8dc808       # the hostile clients against it

The revision is exported with ``git archive`` and installed with its ``[server]`` extra (and its C
kernel: ``AGORA_TOKEN_REQUIRE_EXTENSION=1``) into ``CACHE/<commit>/venv``, once per commit. Its
third-party packages are pinned to the versions installed beside this script (starlette, uvicorn,
httptools, uvloop, prometheus-client...), so the two servers differ in the project's own code only:
the baseline is that revision as a user would have installed it, kernel included. (Copying only an old
``server/`` package beside today's core, as this script once did, stops working as soon as the core's
modules are renamed, and measures a server that never existed.)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agora-token-baselines"
#: Written last: an environment without it is a failed or interrupted install, made again.
DONE = "installed"


def commit_of(rev: str, repo: Path = ROOT) -> str:
    """The full commit id of ``rev`` (``SystemExit`` naming it if git does not know it)."""
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"baseline: {rev!r} is not a revision of {repo}")
    return done.stdout.strip()


def pins() -> str:
    """``name==version`` of every distribution installed here but agora-token: the baseline's constraints."""
    lines = set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and re.sub(r"[-_.]+", "-", name).lower() != "agora-token":
            lines.add(f"{name}=={dist.version}")
    return "\n".join(sorted(lines)) + "\n"


def python_of(rev: str, cache: Path = CACHE, repo: Path = ROOT, quiet: bool = False) -> Path:
    """The python of ``rev`` installed whole with its ``[server]`` extra; installed first if it is not yet."""
    commit = commit_of(rev, repo)
    home = cache / commit
    python = home / "venv" / "bin" / "python"
    if (home / DONE).exists() and python.exists():
        return python
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    say = (lambda text: None) if quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    say(f"baseline: installing {rev} ({commit[:12]}) with its [server] extra into {home} (once; a minute or two)")
    archive = subprocess.run(["git", "-C", str(repo), "archive", commit], check=True, capture_output=True).stdout
    source = home / "source"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        # Our own repository's archive; "data" (where tarfile has it) refuses any path outside ``source``.
        tar.extractall(source, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    venv.create(home / "venv", with_pip=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as constraints:
        constraints.write(pins())
    try:
        env = dict(os.environ, AGORA_TOKEN_REQUIRE_EXTENSION="1", PIP_CONSTRAINT=constraints.name)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", f"{source}[server]"], env=env,
                              capture_output=True, text=True)  # fmt: skip
    finally:
        os.unlink(constraints.name)
    if done.returncode != 0:
        raise SystemExit(f"baseline: installing {rev} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    shutil.rmtree(source, ignore_errors=True)
    (home / DONE).write_text(f"{rev} {commit}\n")
    return python


def main(argv: Optional[list[str]] = None) -> int:
    """Install (if needed) and print the baseline's python."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev", help="a git revision of this repository, e.g. c8dc808 or main")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the environments live (default: %(default)s)")
    args = parser.parse_args(argv)
    print(python_of(args.rev, args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
