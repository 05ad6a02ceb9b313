#!/usr/bin/env bash
# Builds the C kernel with -DFP_FORCE_EVP (HMAC-SHA256 on EVP digests: the code a libcrypto built
# without OpenSSL's deprecated API gets) in a scratch copy of the repository, proves that build took
# the EVP path (_fastpack.HMAC_PATH == "evp") and runs the kernel and vector tests on it. Nothing in
# the checkout changes.
#
#   tools/evp.sh                          # the EVP build
#   tools/evp.sh -DFP_NO_THREAD_STATE     # extra C flags: here, also without per-thread state
#   PYTHON=/path/to/python tools/evp.sh   # default: the checkout's .venv, else python3
#
# The Python needs what the tests need and the build requirements (setuptools, Cython): the
# test-full extra has all of them.
set -euo pipefail

. "$(dirname "$0")/_python.sh"  # sets ROOT and PYTHON
. "$(dirname "$0")/_scratch.sh"  # scratch_build, scratch_kernel
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

cp -r "$ROOT/setup.py" "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/LICENSE" "$ROOT/src" "$ROOT/tests" "$SCRATCH/"
find "$SCRATCH/src" \( -name '*.so' -o -name '*.pyd' -o -name '_fastpack.c' -o -name __pycache__ \) -prune -exec rm -rf {} +

FLAGS="-DFP_FORCE_EVP${*:+ $*}"
echo "== building _fastpack with CFLAGS+=$FLAGS"
scratch_build evp "$FLAGS"
cd "$SCRATCH"
scratch_kernel 'assert f.HMAC_PATH == "evp", f"the build took the {f.HMAC_PATH!r} HMAC path, not EVP"'
"$PYTHON" -m pytest -q -p no:cacheprovider -x tests/test_vectors.py tests/test_tokens.py tests/test_builders.py \
    tests/test_kernel_interface.py
echo "== evp ($FLAGS): passed"
