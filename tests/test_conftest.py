"""The kernel fixture's own rules (conftest.py), in a child pytest whose C extension cannot import:
a C-only test skips there, fails when AGORA_TOKEN_REQUIRE_EXTENSION=1, never runs on the pure
kernel, and ``--no-c-extensions`` runs the once-only tests on the pure kernel."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.thread_unsafe  # child processes; one at a time is plenty

# Makes ``import agora_token._fastpack`` fail in the child, as in an install without the build.
BLOCK_EXTENSION = """
import sys

class _NoExtension:
    def find_spec(self, name, path=None, target=None):
        if name == "agora_token._fastpack":
            raise ImportError("blocked by tests/test_conftest.py")

sys.meta_path.insert(0, _NoExtension())
"""

PROBE = """
import os

import pytest

from agora_token import _backend

pytestmark = pytest.mark.usefixtures("backend")


@pytest.mark.c_extension
def test_c_only():
    pass


def test_on_each_kernel(kernel):
    assert kernel is _backend.kernel
"""

ONCE = """
import os

from agora_token import _backend


def test_once_on_the_chosen_kernel():
    assert _backend.name == os.environ["EXPECT_BACKEND"], _backend.describe()
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tests/ package with this conftest, its data and the probes, and a path entry that blocks the extension."""
    root = tmp_path_factory.mktemp("conftest")
    tests = root / "tests"
    (tests / "data").mkdir(parents=True)
    shutil.copy(HERE / "conftest.py", tests / "conftest.py")
    shutil.copy(HERE / "data" / "official_vectors.json", tests / "data" / "official_vectors.json")
    (tests / "__init__.py").write_text("")
    (tests / "test_probe.py").write_text(PROBE)
    (tests / "test_once.py").write_text(ONCE)
    (root / "block").mkdir()
    (root / "block" / "sitecustomize.py").write_text(BLOCK_EXTENSION)
    return root


def child(tree: Path, *args: str, block: bool = True, **env: str) -> dict[str, int]:
    """Runs pytest on the probes; returns the counts of its summary line ({"passed": 2, ...})."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_TOKEN_") and k != "PYTHONPATH"}
    clean["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the probes need no plugin; loading them all is slow
    if block:
        clean["PYTHONPATH"] = str(tree / "block")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::pytest.PytestUnknownMarkWarning",
         *args, "tests"],
        cwd=tree, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|deselected|errors?)", summary)}


def test_missing_extension_skips_the_c_runs_and_never_runs_c_only_tests_on_python(tree: Path) -> None:
    counts = child(tree, EXPECT_BACKEND="python")
    # test_on_each_kernel[python] and test_once pass; the C runs skip; test_c_only[python] is dropped.
    assert counts == {"passed": 2, "skipped": 2, "deselected": 1}


def test_missing_extension_fails_the_c_runs_where_it_is_required(tree: Path) -> None:
    # AGORA_TOKEN_PURE_PYTHON lets the package import at all; the C runs must then fail, not skip.
    counts = child(tree, AGORA_TOKEN_REQUIRE_EXTENSION="1", AGORA_TOKEN_PURE_PYTHON="1", EXPECT_BACKEND="python")
    assert counts == {"passed": 2, "errors": 2, "deselected": 1}


def test_no_c_extensions_runs_the_rest_on_the_pure_kernel(tree: Path) -> None:
    # Without the block the extension imports where it is built; the option must still keep it out.
    counts = child(tree, "--no-c-extensions", block=False, EXPECT_BACKEND="python")
    assert counts == {"passed": 2, "skipped": 2, "deselected": 1}
