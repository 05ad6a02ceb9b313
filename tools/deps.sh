#!/usr/bin/env bash
# The server's declared dependency ranges, tested at their lower ends:
#
#   tools/deps.sh [lowest|newest] [PYTEST_ARGS...]
#
# lowest: a fresh venv in .deps/lowest with the checkout, its "test" extra, and every dependency of
# the "server" extra pinned to the lowest version pyproject.toml allows (tools/dependency_bounds.py:
# starlette, uvicorn, prometheus-client, python-json-logger, gunicorn, uvicorn-worker, ...); newest:
# the newest releases the ranges allow (what README's test command installs). Then the server, CLI
# and example tests run there (default: tests/test_server*.py tests/test_cli.py). The C extension is
# required (AGORA_TOKEN_REQUIRE_EXTENSION=1).
set -euo pipefail
. "$(dirname "$0")/_python.sh"  # sets ROOT and PYTHON
cd "$ROOT"
which=${1:-lowest}
[ $# -gt 0 ] && shift
case $which in lowest|newest) ;; *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;; esac
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(tests/test_server*.py tests/test_cli.py)
venv=.deps/$which
rm -rf "$venv"
"$PYTHON" -m venv "$venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1 AGORA_TOKEN_REQUIRE_EXTENSION=1
"$venv/bin/pip" install -q packaging 'tomli; python_version < "3.11"'
constraints=$(mktemp)
if [ "$which" = lowest ]; then
    "$venv/bin/python" tools/dependency_bounds.py lowest server > "$constraints"
    echo "deps: pinned to the lowest allowed:" $(sed 's/;.*//' "$constraints")
fi
"$venv/bin/pip" install -q -c "$constraints" '.[test,server]'
"$venv/bin/pip" list 2>/dev/null | grep -i -E '^(starlette|uvicorn|uvicorn-worker|prometheus.client|python-json-logger|gunicorn|pyjwt|cryptography) ' \
    | awk '{printf "%s %s; ", $1, $2} END {print ""}' | sed 's/^/deps: installed: /'
rm -f "$constraints"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "${tests[@]}"
