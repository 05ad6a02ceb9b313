#!/usr/bin/env bash
# Coverage of both kernels (and of the whole package) by the test suite, with floors.
#
# The C kernel is measured through Cython's coverage plugin: a scratch copy of the repository is
# built with line tracing (the Cython directive linetrace and CYTHON_TRACE_NOGIL), so coverage.py
# sees the lines of _fastpack.pyx and its .pxi files run; the pure kernel (_pure.py) and the rest
# of the package are Python. The C files (fp_*.c) are not measured here: the kernel tests,
# tools/deflate_diff.sh and the sanitizers exercise them. The suite runs once, on both backends,
# subprocesses (CLI, server) included; nothing in the checkout changes.
#
#   tools/coverage.sh                        # report, and fail under the floors
#   PYTHON=/path/to/python tools/coverage.sh # default: the checkout's .venv, else python3
#   tools/coverage.sh tests/test_tokens.py   # a slice (the floors are then not checked)
#
# The floors live in pyproject.toml ([tool.agora-token.coverage]): the figures measured when they
# were last raised. The Python needs the "dev" extra (coverage, Cython, the test dependencies).
set -euo pipefail

. "$(dirname "$0")/_python.sh"  # sets ROOT and PYTHON
. "$(dirname "$0")/_scratch.sh"  # scratch_build, scratch_kernel
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

# The whole checkout (the suite also tests the build, the docs and the examples), without its
# environments and build products.
tar -C "$ROOT" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.so' --exclude=__pycache__ \
    --exclude=.hypothesis --exclude=.mypy_cache --exclude=.ruff_cache --exclude=./.matrix -cf - . | tar -C "$SCRATCH" -xf -
find "$SCRATCH/src" \( -name '*.so' -o -name '*.pyd' -o -name '_fastpack.c' -o -name __pycache__ \) -prune -exec rm -rf {} +
# Line tracing is a Cython directive: on in this copy only (it slows the kernel down). A trace event
# needs the GIL, which the kernel drops by hand around long C work (_release_gil_from): this copy
# keeps it held instead. Every line still runs; only the GIL hand-off differs from the real build.
KERNEL="$SCRATCH/src/agora_token/_fastpack.pyx"
grep -q '        return PyEval_SaveThread()' "$KERNEL" || { echo "coverage: _release_gil_from changed" >&2; exit 1; }
sed -i.orig -e '1i # cython: linetrace=True' -e 's/        return PyEval_SaveThread()/        return NULL/' "$KERNEL"
rm "$KERNEL.orig"

echo "== building _fastpack with line tracing"
scratch_build coverage "-DCYTHON_TRACE=1 -DCYTHON_TRACE_NOGIL=1"
cd "$SCRATCH"
scratch_kernel
TESTS=("${@:-tests}")
"$PYTHON" -m coverage erase
"$PYTHON" -m coverage run -m pytest -q -p no:cacheprovider "${TESTS[@]}"
"$PYTHON" -m coverage combine -q
"$PYTHON" -m coverage report --skip-covered --sort=cover
"$PYTHON" - "${TESTS[*]}" <<'PY'
import json, subprocess, sys
try:
    import tomllib
except ImportError:  # Python 3.9 and 3.10
    import tomli as tomllib

data = json.loads(subprocess.run([sys.executable, "-m", "coverage", "json", "-q", "-o", "-"], check=True,
                                 capture_output=True, text=True).stdout)
files = data["files"]


def percent(paths):
    lines = sum(files[p]["summary"]["num_statements"] for p in paths)
    hit = sum(files[p]["summary"]["covered_lines"] for p in paths)
    return 100.0 * hit / lines, hit, lines


kernels = {
    "c": [p for p in files if p.endswith((".pyx", ".pxi"))],
    "python": [p for p in files if p.endswith("_pure.py")],
    "package": list(files),
}
with open("pyproject.toml", "rb") as handle:
    floors = tomllib.load(handle)["tool"]["agora-token"]["coverage"]
print()
failed = []
for name, paths in kernels.items():
    assert paths, f"no {name} file was measured"
    value, hit, lines = percent(paths)
    floor = floors[name]
    print(f"{name:8} kernel {value:6.2f} % ({hit}/{lines} lines of {len(paths)} files), floor {floor} %"
          if name != "package" else f"package  {value:6.2f} % ({hit}/{lines} lines of {len(paths)} files), floor {floor} %")
    if value < floor:
        failed.append(f"{name}: {value:.2f} % < {floor} %")
if sys.argv[1] != "tests":
    print("(a slice of the suite: the floors are not checked)")
elif failed:
    sys.exit("coverage under its floor: " + "; ".join(failed))
PY
