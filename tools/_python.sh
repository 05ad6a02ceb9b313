# Sourced by tools/sanitize.sh, tools/valgrind.sh, tools/evp.sh, tools/gates.sh and tools/coverage.sh:
# the checkout (ROOT) and the interpreter they run, chosen in one place so the tools always test the
# same Python: $PYTHON if set, else the checkout's .venv (README's set-up commands make it), else
# python3 on PATH. A relative path is made absolute, since the tools run it from scratch copies.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
case "$PYTHON" in /*) ;; */*) PYTHON="$PWD/$PYTHON" ;; *) PYTHON="$(command -v "$PYTHON")" ;; esac
