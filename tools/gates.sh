#!/usr/bin/env bash
# The static gates, in one place for .ci/run, CI (ci.yml, gates job) and contributors:
#   ruff check and ruff format --check (rules: pyproject.toml [tool.ruff]),
#   mypy --strict on the package and on the public API's typing test (tests/typing),
#   stubtest: _fastpack.pyi against the built C kernel (so the package must be installed, built).
# The same checks run from .pre-commit-config.yaml. Exits non-zero at the first that fails.
#
#   tools/gates.sh                          # with the checkout's .venv (README's set-up), else python3
#   PYTHON=/path/to/python tools/gates.sh   # its environment needs the "dev" extra
set -euo pipefail

. "$(dirname "$0")/_python.sh"  # sets ROOT and PYTHON
cd "$ROOT"

echo "== ruff check"
"$PYTHON" -m ruff check .
echo "== ruff format --check"
"$PYTHON" -m ruff format --check .
echo "== mypy --strict src/agora_token"
"$PYTHON" -m mypy src/agora_token
echo "== mypy --strict tests/typing (the public API's types)"
"$PYTHON" -m mypy tests/typing
echo "== stubtest: _fastpack.pyi against the built kernel"
"$PYTHON" -c "import agora_token._fastpack" \
    || { echo "gates: the C kernel is not built: install the package first" >&2; exit 1; }
"$PYTHON" -m mypy.stubtest agora_token._fastpack
echo "== gates: passed"
