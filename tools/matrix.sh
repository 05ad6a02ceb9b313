#!/usr/bin/env bash
# Runs the test suite on each CPython interpreter this machine has (or can obtain) and prints one
# line per interpreter with its pytest summary.
#
#   tools/matrix.sh [--get] [NAME ...] [-- PYTEST_ARGS...]
#
# NAME is "system" (the python3 on PATH) or a name of ../shared/tools/pythons.sh (3.9, 3.13,
# 3.13t, 3.14, aarch64-3.11, ...; see `pythons.sh --help`). Without names: "system" and every
# interpreter pythons.sh has already built. --get obtains the named ones that are missing (a few
# minutes each); one that cannot be obtained is reported loudly and skipped, never a failure.
# Each run is a fresh venv in .matrix/NAME with the checkout and its test extras installed from
# wheels alone ('.[test-full]', or '.[test]' where a dependency has no wheel for that interpreter),
# the C extension required (AGORA_TOKEN_REQUIRE_EXTENSION=1), so the kernel tests run on both kernels. A free-threaded interpreter
# (a name ending in "t") must keep the GIL off after import, and its kernel, model and builder
# tests run a second time under pytest-run-parallel with 8 threads.
#
# Exit status: 0 when every suite that ran passed, 1 otherwise.
# Environment: PYTHONS_SH (default ../shared/tools/pythons.sh beside the checkout, then on PATH).
set -uo pipefail
cd "$(dirname "$0")/.."
project=$(pwd)

get=0
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --get) get=1 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) names+=("$1") ;;
  esac
  shift
done
pytest_args=("$@")

pythons=${PYTHONS_SH:-}
if [ -z "$pythons" ]; then
  for candidate in "$project/../shared/tools/pythons.sh" "$(command -v pythons.sh 2>/dev/null)"; do
    [ -n "$candidate" ] && [ -f "$candidate" ] && { pythons=$candidate; break; }
  done
fi

# Run through bash: a copy of shared/ may have lost its execute bits.
pythons_sh() { bash "$pythons" "$@"; }

loud() { printf '\n!!!!!!!! %s\n\n' "$*" >&2; }

if [ ${#names[@]} -eq 0 ]; then
  names=(system)
  if [ -n "$pythons" ]; then
    while read -r name _ status _; do
      [ "$status" = built ] && names+=("$name")
    done < <(pythons_sh list 2>/dev/null | tail -n +3)
  fi
fi

logs=$(mktemp -d)
results=()
failed=0

summary_of() {  # the last pytest summary line of a log ("N passed, ... in Xs"), else its last line
  grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$1" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//' ||
    tail -n 1 "$1"
}

interpreter_of() {  # NAME: the interpreter's path (for a chroot, pythons.sh's wrapper script)
  if [ "$1" = system ]; then command -v python3; else pythons_sh get "$1" 2>/dev/null | tail -n 1; fi
}

make_venv() {  # NAME LOG: a fresh venv in .matrix/NAME with the package and its test extras
  local name=$1 log=$2 py venv=.matrix/$1
  py=$(interpreter_of "$name") || return 1
  run=()
  [ -x "$(dirname "$py")/run" ] && run=("$(dirname "$py")/run")  # a chroot: run inside it
  rm -rf "$venv"
  # The machine's pip config may add find-links without Requires-Python data; none here.
  export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
  {
    echo "interpreter: $py"
    "$py" -m venv "$venv" && "${run[@]}" "$venv/bin/python" -m pip install -q -U pip || return 1
    # The full test set where every dependency has a wheel for this interpreter, else "test"
    # (free-threaded builds: see pyproject.toml); never a source build of a dependency.
    extras=test-full
    if ! "${run[@]}" "$venv/bin/python" -m pip install -q --only-binary=:all: --no-binary=agora-token \
         "$project[test-full]"; then
      extras=test
      "${run[@]}" "$venv/bin/python" -m pip install -q --only-binary=:all: --no-binary=agora-token \
        "$project[test]" || return 1
    fi
    echo "extras: $extras"
    "${run[@]}" "$venv/bin/python" -c 'import sys, platform, agora_token
print("version:", sys.version.split()[0], "|", platform.machine())
print("backend:", agora_token.backend)
print("GIL enabled after importing agora_token:", getattr(sys, "_is_gil_enabled", lambda: True)())'
  } >"$log" 2>&1
}

run_pytest() {  # NAME LOG [PYTEST_ARGS...]: pytest with the venv of NAME, the C extension required
  local name=$1 log=$2
  shift 2
  AGORA_TOKEN_REQUIRE_EXTENSION=1 "${run[@]}" ".matrix/$name/bin/python" -m pytest -q -p no:cacheprovider "$@" \
    >>"$log" 2>&1
}

for name in "${names[@]}"; do
  if [ "$name" != system ]; then
    if [ -z "$pythons" ]; then
      loud "$name: pythons.sh not found (set PYTHONS_SH); not tested"
      results+=("$(printf -- '--   %-13s %s' "$name" "NOT TESTED: pythons.sh not found")")
      continue
    fi
    built=$(pythons_sh list 2>/dev/null | awk -v n="$name" '$1 == n { print $3 }')
    if [ "$built" != built ]; then
      if [ $get = 0 ]; then
        loud "$name: not built here (rerun with --get to build it); not tested"
        results+=("$(printf -- '--   %-13s %s' "$name" "NOT TESTED: not built (use --get)")")
        continue
      fi
      echo "== obtaining $name (pythons.sh get $name; a few minutes)"
      if ! pythons_sh get "$name" >"$logs/get-$name.log" 2>&1; then
        loud "$name: could not be obtained on this machine: $(grep -v '^\s*$' "$logs/get-$name.log" | tail -n 1)"
        results+=("$(printf -- '--   %-13s %s' "$name" "NOT TESTED: could not be obtained (see above)")")
        continue
      fi
    fi
  fi

  echo "== $name: the whole suite"
  log=$logs/$name.log
  status=ok
  if ! make_venv "$name" "$log"; then
    tail -n 30 "$log" >&2
    results+=("$(printf 'FAIL %-13s %s' "$name" "the package or its test extras did not install (log: $log)")")
    failed=1
    continue
  fi
  run_pytest "$name" "$log" "${pytest_args[@]}" || status=failed
  version=$(sed -n 's/^version: \(.*\) | \(.*\)$/\1 \2/p' "$log" | head -n 1)
  extras=$(sed -n 's/^extras: //p' "$log")
  line="$(printf '%-13s %-16s %-9s' "$name" "${version:-?}" "[$extras]") $(summary_of "$log")"

  case $name in
    *t)
      gil=$(sed -n 's/^GIL enabled after importing agora_token: //p' "$log")
      if [ "$gil" != False ]; then
        status=failed
        line+=" | GIL ${gil:-unknown} after import (must stay off)"
      else
        line+=" | GIL off after import"
      fi
      echo "== $name: kernel, model and builder tests under pytest-run-parallel, 8 threads"
      plog=$logs/$name-parallel.log
      : >"$plog"
      AGORA_TOKEN_REQUIRE_EXTENSION=1 "${run[@]}" bash tools/parallel-tests.sh ".matrix/$name/bin/python" \
        >>"$plog" 2>&1 || status=failed
      line+=" | 8 threads: $(summary_of "$plog")"
      ;;
  esac

  if [ $status = failed ]; then
    failed=1
    tail -n 40 "$log" >&2
    [ -f "${plog:-/nonexistent}" ] && tail -n 40 "$plog" >&2
    line="FAIL $line"
  else
    line="ok   $line"
  fi
  unset plog
  results+=("$line")
  echo "$line"
done

echo
echo "== matrix: one line per interpreter (logs in $logs)"
printf '%s\n' "${results[@]}"
exit $failed
