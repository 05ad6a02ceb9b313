"""Installs that say what they did (issue 15, items 2-4): setup.py's fall-back, its record and its errors.

Each test builds a wheel from a copy of the source tree with a compiler that cannot build the kernel,
offline (``--no-build-isolation``: test-full installs setuptools and Cython), and looks inside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("Cython", reason="building the kernel needs Cython (in the test-full extra)")
setuptools = pytest.importorskip("setuptools")
if int(setuptools.__version__.split(".")[0]) < 77 or not (ROOT / "setup.py").is_file():
    pytest.skip("needs setuptools>=77 (test-full) and a source tree", allow_module_level=True)

pytestmark = pytest.mark.thread_unsafe  # builds in subprocesses; one at a time is plenty

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


def build_wheel(tree: Path, env: Dict[str, str]) -> Tuple[subprocess.CompletedProcess, Path]:
    out = tree / "dist"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_TOKEN_")}
    full_env.update(env, PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", str(out), str(tree)],
        capture_output=True, text=True, env=full_env, timeout=600,
    )  # fmt: skip
    return done, out


def wheel_files(out: Path) -> Dict[str, bytes]:
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_no_compiler_installs_pure_python_says_why_and_drops_the_stale_binary(tree: Path, tmp_path: Path) -> None:
    done, out = build_wheel(tree, {"CC": "/nonexistent/cc"})
    assert done.returncode == 0, done.stderr[-3000:]
    files = wheel_files(out)
    binaries = [name for name in files if "_fastpack" in name and name.endswith((".so", ".pyd"))]
    assert binaries == [], "a stale kernel binary was packaged"
    info = files["agora_token/_build_info.py"].decode()
    assert "/nonexistent/cc" in info and "was not found" in info

    # Installed, the copy runs pure Python and says why, in --version too.
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target)]
    subprocess.run([*pip, *out.glob("*.whl")], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_TOKEN_")}
    env["PYTHONPATH"] = str(target)
    version = subprocess.run(
        [sys.executable, "-m", "agora_token", "--version"], capture_output=True, text=True, env=env
    )  # fmt: skip
    assert version.returncode == 0, version.stderr
    why = "the C extension was not built: the C compiler '/nonexistent/cc' was not found"
    assert f"backend: python ({why}" in version.stdout
    backend = subprocess.run([sys.executable, "-c", "import agora_token; print(agora_token.backend)"],
                             capture_output=True, text=True, env=env)  # fmt: skip
    assert backend.stdout.strip() == "python"


def test_required_extension_without_compiler_names_the_variable_and_the_tool(tree: Path) -> None:
    done, out = build_wheel(tree, {"CC": "/nonexistent/cc", "AGORA_TOKEN_REQUIRE_EXTENSION": "1"})
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "error: AGORA_TOKEN_REQUIRE_EXTENSION=1 is set, but the C extension could not be built" in text
    assert "the C compiler '/nonexistent/cc' was not found" in text
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
