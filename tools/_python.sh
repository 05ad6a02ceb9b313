# Sourced by tools/sanitize.sh and tools/valgrind.sh: the checkout (ROOT) and the interpreter they
# run (PYTHON: $PYTHON if set, else the venv next to the checkout, else python3 on PATH), chosen
# the same way in one place so the two tools always test the same Python.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/../venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
