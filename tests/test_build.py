"""Installs that say what they did (issue 15, items 2-4): setup.py's fall-back, its record and its errors.

Each test builds a wheel from a copy of the source tree with a compiler that cannot build the kernel,
offline (``--no-build-isolation``: test-full installs setuptools and Cython), and looks inside it. The
reason given names what failed (issue 20): the compiler when there is none or it does not work, a
header only when the compiler works and that header is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .processes import run

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("Cython", reason="building the kernel needs Cython (in the test-full extra)")
setuptools = pytest.importorskip("setuptools")
if int(setuptools.__version__.split(".")[0]) < 77 or not (ROOT / "setup.py").is_file():
    pytest.skip("needs setuptools>=77 (test-full) and a source tree", allow_module_level=True)

#: A wheel build compiles the kernel: minutes for a free-threaded build on a loaded machine.
BUILD_SECONDS = 600
# Builds in subprocesses, one at a time; a test may build and install, each within BUILD_SECONDS.
pytestmark = [pytest.mark.thread_unsafe, pytest.mark.timeout(2 * BUILD_SECONDS + 120)]
#: A compiler that exists and fails on everything it is given.
FAILING_CC = "/bin/false"

# A compiler without the OpenSSL headers: it fails any C file that includes one, as gcc would.
NO_OPENSSL_CC = """#!/bin/sh
for a in "$@"; do
  case "$a" in
    *.c) if grep -q '#include <openssl/\\|#include "openssl/' "$a"; then
           echo "$a: fatal error: openssl/evp.h: No such file or directory" >&2; exit 1
         fi ;;
  esac
done
exec "${REAL_CC:-cc}" "$@"
"""


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    """A copy of the sources, with a stale kernel binary in build/ as a checkout that built once has."""
    src = tmp_path / "src-tree"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy(ROOT / name, src / name)
    skip = shutil.ignore_patterns("*.so", "*.pyd", "_fastpack.c", "_build_info.py", "__pycache__")
    shutil.copytree(ROOT / "src", src / "src", ignore=skip)
    plat = f"lib.{sysconfig.get_platform()}-{sys.implementation.cache_tag}"
    stale_dir = src / "build" / plat / "agora_token"
    stale_dir.mkdir(parents=True)
    (stale_dir / f"_fastpack{sysconfig.get_config_var('EXT_SUFFIX')}").write_bytes(b"stale binary from an old build")
    yield src


def build_wheel(tree: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, Path]:
    out = tree / "dist"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_TOKEN_")}
    full_env.update(env, PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", str(out),
                str(tree)], full_env, timeout=BUILD_SECONDS)  # fmt: skip
    return done, out


def wheel_files(out: Path) -> dict[str, bytes]:
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize(
    "cc, why",
    [
        ("/nonexistent/cc", "the C compiler '/nonexistent/cc' was not found"),
        (FAILING_CC, f"the C compiler '{FAILING_CC}' does not work: it failed on a C file that includes nothing"),
    ],
    ids=["no-compiler", "failing-compiler"],
)
def test_no_working_compiler_installs_pure_python_says_why_and_drops_the_stale_binary(
    tree: Path, tmp_path: Path, cc: str, why: str
) -> None:
    if not os.path.exists(cc) and cc == FAILING_CC:
        pytest.skip(f"no {FAILING_CC} here")
    done, out = build_wheel(tree, {"CC": cc})
    assert done.returncode == 0, done.stderr[-3000:]
    files = wheel_files(out)
    binaries = [name for name in files if "_fastpack" in name and name.endswith((".so", ".pyd"))]
    assert binaries == [], "a stale kernel binary was packaged"
    info = files["agora_token/_build_info.py"].decode()
    assert why in info and "missing" not in info, info

    # Installed, the copy runs pure Python and says why, in --version too.
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    assert run([*pip, *map(str, out.glob("*.whl"))], timeout=BUILD_SECONDS).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_TOKEN_")}
    env["PYTHONPATH"] = str(target)
    version = run([sys.executable, "-m", "agora_token", "--version"], env)
    assert version.returncode == 0, version.stderr
    assert f"backend: python (the C extension was not built: {why}" in version.stdout
    # Only what failed is named: no header is blamed for a compiler that does not work.
    assert ".h (" not in version.stdout, version.stdout
    backend = run([sys.executable, "-c", "import agora_token; print(agora_token.backend)"], env)
    assert backend.stdout.strip() == "python"


@pytest.mark.parametrize(
    "cc, why", [("/nonexistent/cc", "was not found"), (FAILING_CC, "does not work")], ids=["missing", "failing"]
)
def test_required_extension_without_a_working_compiler_names_the_variable_and_the_tool(
    tree: Path, cc: str, why: str
) -> None:
    if not os.path.exists(cc) and cc == FAILING_CC:
        pytest.skip(f"no {FAILING_CC} here")
    done, out = build_wheel(tree, {"CC": cc, "AGORA_TOKEN_REQUIRE_EXTENSION": "1"})
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "error: AGORA_TOKEN_REQUIRE_EXTENSION=1 is set, but the C extension could not be built" in text
    assert f"the C compiler '{cc}' {why}" in text
    assert "missing Python.h" not in text and "openssl/evp.h (" not in text and "zlib.h (" not in text
    assert not list(out.glob("*.whl"))


def test_required_extension_without_openssl_headers_names_the_header_and_package(tree: Path, tmp_path: Path) -> None:
    cc = tmp_path / "no-openssl-cc"
    cc.write_text(NO_OPENSSL_CC)
    cc.chmod(0o755)
    real_cc = shutil.which(os.environ.get("CC", "") or "cc") or shutil.which("gcc")
    if real_cc is None:
        pytest.skip("no C compiler to wrap")
    done, _ = build_wheel(tree, {"CC": str(cc), "REAL_CC": real_cc, "AGORA_TOKEN_REQUIRE_EXTENSION": "1"})
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "AGORA_TOKEN_REQUIRE_EXTENSION=1 is set" in text
    assert "missing openssl/evp.h (the OpenSSL headers (Debian/Ubuntu: libssl-dev" in text
    assert "zlib.h (" not in text and "Python.h (" not in text, "only the missing header is named"
