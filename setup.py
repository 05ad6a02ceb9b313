"""Declares the optional C kernel; all other metadata lives in pyproject.toml.

The extension links zlib and OpenSSL's libcrypto. Where it cannot be built (no compiler, no
headers) the package installs as pure Python, unless AGORA_TOKEN_REQUIRE_EXTENSION=1 asks for the
build to fail instead. pip hides a successful build's output (it shows it with ``-v``), so the
build also writes why it skipped the extension into the package (``agora_token/_build_info.py``),
and ``agora-token --version`` says it at run time.
"""

import glob
import os
import shutil
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import BaseError as DistutilsError
from setuptools.errors import CompileError

REQUIRE_VAR = "AGORA_TOKEN_REQUIRE_EXTENSION"
REQUIRE = os.environ.get(REQUIRE_VAR, "").strip().lower() in {"1", "true", "yes", "on"}
PURE = os.environ.get("AGORA_TOKEN_PURE_PYTHON", "").strip().lower() in {"1", "true", "yes", "on"}
EXT_NAME = "agora_token._fastpack"
#: The kernel's own C files (src/agora_token/NAME.c), compiled into the extension beside the C that
#: Cython writes for _fastpack.pyx; tools/c-warnings.sh compiles each one alone with -Werror.
C_FILES = ("fp_hmac", "fp_sign", "fp_state", "fp_codec", "fp_deflate")

#: Headers the kernel needs, and where each comes from, for an error that says what to install.
HEADERS = (
    ("Python.h", "the Python development headers (Debian/Ubuntu: python3-dev)"),
    (
        "openssl/evp.h",
        "the OpenSSL headers (Debian/Ubuntu: libssl-dev; Fedora: openssl-devel; macOS: brew install openssl@3)",
    ),
    ("zlib.h", "the zlib headers (Debian/Ubuntu: zlib1g-dev; Fedora: zlib-devel)"),
)


def _warn(message: str) -> None:
    bar = "*" * 78
    sys.stderr.write(f"\n{bar}\n{message}\n{bar}\n\n")


class OptionalBuildExt(build_ext):
    """Builds the C kernel, falling back to pure Python unless the extension is required.

    Whatever happens it removes an older build's binary first (a stale ``_fastpack`` left in
    ``build/`` would otherwise ride into the wheel of a pure-Python install) and records the
    outcome in ``_build_info.py`` beside the extension.
    """

    def run(self) -> None:
        self._remove_stale_binaries()
        skipped = SKIPPED
        if skipped is None:
            try:
                super().run()
            except Exception as exc:  # no compiler at all surfaces here
                skipped = self._fallback(exc)
        self._write_build_info(skipped or getattr(self, "_skipped", None))

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # a compile or link error surfaces here
            self._skipped = self._fallback(exc)

    def _output_dir(self) -> str:
        return os.path.dirname(self.get_ext_fullpath(EXT_NAME))

    def _remove_stale_binaries(self) -> None:
        os.makedirs(self._output_dir(), exist_ok=True)
        stale = {self.get_ext_fullpath(EXT_NAME)}
        if not self.inplace:  # build/lib.* is this interpreter's own: any kernel binary there is ours
            for pattern in ("_fastpack*.so", "_fastpack*.pyd"):
                stale.update(glob.glob(os.path.join(self._output_dir(), pattern)))
        for path in stale:
            if os.path.exists(path):
                os.remove(path)

    def _write_build_info(self, skipped: "str | None") -> None:
        path = os.path.join(self._output_dir(), "_build_info.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(
                "# Written by setup.py when this copy was built: why it has no C kernel (None: it has one).\n"
                f"EXTENSION_SKIPPED = {skipped!r}\n"
            )

    def _diagnose(self, exc: Exception) -> str:
        """What failed, in words a user can act on: the compiler, else the headers it lacks; else the build's error.

        A header is named only when the compiler works (it compiles a file that includes nothing)
        and fails on that header alone: a compiler that fails everything (``CC=/bin/false``, a
        broken toolchain) would otherwise make every header look missing.
        """
        compiler = getattr(self, "compiler", None)
        command = getattr(compiler, "compiler_so", None)
        if command:
            if shutil.which(command[0]) is None:
                return f"the C compiler {command[0]!r} was not found (install one, e.g. gcc; or set CC)"
            if self._compiles("int agora_token_probe;\n") is False:
                return (
                    f"the C compiler {command[0]!r} does not work: it failed on a C file that includes nothing "
                    "(install a working one, e.g. gcc; or set CC)"
                )
            missing = [
                f"{header} ({hint})" for header, hint in HEADERS if self._compiles(f"#include <{header}>\n") is False
            ]
            if missing:
                return "missing " + "; ".join(missing)
        return f"{type(exc).__name__}: {exc}"

    def _compiles(self, source: str) -> "bool | None":
        """Whether the compiler compiles ``source``; None if the probe itself could not be run."""
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "probe.c")
            with open(path, "w") as handle:
                handle.write(source)
            try:
                self.compiler.compile([path], output_dir=tmp, include_dirs=self.include_dirs)
            except CompileError:
                return False
            except Exception:  # the probe itself failed: blame neither the compiler nor a header for it
                return None
        return True

    def _fallback(self, exc: Exception) -> str:
        reason = self._diagnose(exc)
        if REQUIRE:
            raise DistutilsError(
                f"{REQUIRE_VAR}=1 is set, but the C extension could not be built: {reason}. "
                f"Install what is missing, or unset {REQUIRE_VAR} to install the pure-Python backend."
            ) from exc
        _warn(
            f"agora-token: the C extension could not be built ({reason}).\n"
            "Installing the pure-Python backend instead: tokens are identical, only slower.\n"
            "Install a C compiler and the OpenSSL and zlib headers (e.g. gcc, libssl-dev, "
            "zlib1g-dev) and reinstall for the fast backend."
        )
        return reason


def _extension() -> "tuple[list, str | None]":
    """The extension to build (always declared, so build_ext runs and records the outcome) and,
    when it will not be built, why."""
    raw = Extension(
        EXT_NAME,
        ["src/agora_token/_fastpack.pyx"] + [f"src/agora_token/{name}.c" for name in C_FILES],
        include_dirs=["src/agora_token"],
        depends=sorted(glob.glob("src/agora_token/fp_*.h")),
        libraries=["libcrypto", "zlib"] if sys.platform == "win32" else ["crypto", "z"],
        define_macros=[("OPENSSL_SUPPRESS_DEPRECATED", None)],
    )
    if PURE and not REQUIRE:
        return [raw], "AGORA_TOKEN_PURE_PYTHON was set when it was built"
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        if REQUIRE:
            raise DistutilsError(f"{REQUIRE_VAR}=1 is set, but Cython is not installed ({exc})") from exc
        _warn(f"agora-token: Cython is unavailable ({exc}); installing the pure-Python backend.")
        return [raw], f"Cython is not installed ({exc})"
    try:
        return cythonize([raw], compiler_directives={"language_level": "3"}, quiet=True), None
    except Exception as exc:  # a Cython compile error: same policy as a C compile error
        if REQUIRE:
            raise DistutilsError(f"{REQUIRE_VAR}=1 is set, but Cython could not translate the C kernel: {exc}") from exc
        _warn(f"agora-token: Cython could not translate the C kernel ({exc}); installing the pure-Python backend.")
        return [raw], f"Cython could not translate the C kernel ({exc})"


EXTENSIONS, SKIPPED = _extension()

setup(ext_modules=EXTENSIONS, cmdclass={"build_ext": OptionalBuildExt})
