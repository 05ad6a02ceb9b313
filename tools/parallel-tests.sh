#!/usr/bin/env bash
# The kernel, model and builder tests run on 8 threads at once by pytest-run-parallel: each test
# body runs concurrently in 8 threads and every result is still asserted. Meant for free-threaded
# Python (3.13t, 3.14t), where the kernels run truly in parallel; tools/matrix.sh and ci.yml's
# free-threaded jobs call it. The CLI, server and peer tests start processes and are left out.
#
#   tools/parallel-tests.sh [PYTHON] [PYTEST_ARGS...]      (PYTHON defaults to python)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python}
shift || true
exec "$python" -m pytest -q -p no:cacheprovider --parallel-threads=8 \
  tests/test_tokens.py tests/test_builders.py tests/test_vectors.py tests/test_legacy.py \
  tests/test_compat.py tests/test_parse_differential.py tests/test_limits.py tests/test_threads.py \
  tests/test_fork.py tests/test_secrets.py tests/test_strictness.py tests/test_clock.py "$@"
