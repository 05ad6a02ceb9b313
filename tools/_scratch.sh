# Sourced by tools/evp.sh and tools/coverage.sh (after tools/_python.sh): build the C kernel in a
# scratch copy of the checkout with extra C flags, and make sure the tests then run that build.
# shellcheck shell=bash

# scratch_build TOOL FLAGS: build_ext --inplace in $SCRATCH, the C extension required; on failure
# the end of the build log and "TOOL: the build failed".
scratch_build() {
    (cd "$SCRATCH" && CFLAGS="${CFLAGS:+$CFLAGS }$2" AGORA_TOKEN_REQUIRE_EXTENSION=1 \
        "$PYTHON" setup.py -q build_ext --inplace >"$SCRATCH/build.log" 2>&1) \
        || { tail -n 30 "$SCRATCH/build.log" >&2; echo "$1: the build failed" >&2; exit 1; }
    export PYTHONPATH="$SCRATCH/src"
    export AGORA_TOKEN_REQUIRE_EXTENSION=1
}

# scratch_kernel [PYTHON-CHECK]: the kernel imported is the scratch build (and PYTHON-CHECK, code
# run with it as ``f``, holds); prints where it is.
scratch_kernel() {
    "$PYTHON" - "${1:-}" <<'PY'
import os, sys
import agora_token, agora_token._fastpack as f
assert agora_token.backend == "c", agora_token.backend
assert f.__file__.startswith(os.environ["PYTHONPATH"]), f"not the scratch build: {f.__file__}"
exec(sys.argv[1])
print(f"== kernel {f.__file__}: HMAC_PATH={f.HMAC_PATH}, DEFLATE_PATH={f.DEFLATE_PATH}")
PY
}
