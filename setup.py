"""Declares the optional C kernel; all other metadata lives in pyproject.toml.

The extension links zlib and OpenSSL's libcrypto. Where it cannot be built (no compiler, no
headers) the package installs as pure Python and says so, unless
AGORA_TOKEN_REQUIRE_EXTENSION=1 asks for the build to fail instead.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

REQUIRE = os.environ.get("AGORA_TOKEN_REQUIRE_EXTENSION", "").strip().lower() in {"1", "true", "yes", "on"}
PURE = os.environ.get("AGORA_TOKEN_PURE_PYTHON", "").strip().lower() in {"1", "true", "yes", "on"}


def _warn(message: str) -> None:
    bar = "*" * 78
    sys.stderr.write(f"\n{bar}\n{message}\n{bar}\n\n")


class OptionalBuildExt(build_ext):
    """Builds the C kernel, falling back to pure Python unless the extension is required."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all surfaces here
            self._fallback(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # a compile or link error surfaces here
            self._fallback(exc)

    def _fallback(self, exc: Exception) -> None:
        if REQUIRE:
            raise
        _warn(
            "agora-token: the C extension could not be built "
            f"({type(exc).__name__}: {exc}).\n"
            "Installing the pure-Python backend instead: tokens are identical, only slower.\n"
            "Install a C compiler and the OpenSSL and zlib headers (e.g. gcc, libssl-dev, "
            "zlib1g-dev) and reinstall for the fast backend."
        )


def _extensions() -> list:
    if PURE and not REQUIRE:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        if REQUIRE:
            raise
        _warn(f"agora-token: Cython is unavailable ({exc}); installing the pure-Python backend.")
        return []
    extension = Extension(
        "agora_token._fastpack",
        ["src/agora_token/_fastpack.pyx", "src/agora_token/fp_deflate.c"],
        include_dirs=["src/agora_token"],
        libraries=["libcrypto", "zlib"] if sys.platform == "win32" else ["crypto", "z"],
        define_macros=[("OPENSSL_SUPPRESS_DEPRECATED", None)],
    )
    try:
        return cythonize([extension], compiler_directives={"language_level": "3"}, quiet=True)
    except Exception as exc:  # a Cython compile error: same policy as a C compile error
        if REQUIRE:
            raise
        _warn(f"agora-token: Cython could not translate the C kernel ({exc}); installing the pure-Python backend.")
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
