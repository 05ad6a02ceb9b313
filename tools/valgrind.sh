#!/usr/bin/env bash
# valgrind memcheck over tools/kernel_loop.py (every C-kernel entry point, small and large tokens,
# every parse error, short-lived threads) on the regular build of the extension.
# PYTHONMALLOC=malloc makes every Python allocation visible to memcheck. Fails on any "definitely lost" block
# allocated under _fastpack (CPython's own at-exit leftovers are reported, not counted).
# Fails on any invalid access or uninitialised use whose stack passes through _fastpack; CPython
# 3.11's own start-up reports (uninitialised reads in int.from_bytes) are counted apart.
#
#   tools/valgrind.sh [ROUNDS]      (default 30; ~1 min on one core)
set -euo pipefail

. "$(dirname "$0")/_python.sh"  # sets ROOT and PYTHON
ROUNDS="${1:-30}"
LOG="${LOG:-/tmp/agora-token-valgrind.log}"

export PYTHONMALLOC=malloc
export AGORA_TOKEN_REQUIRE_EXTENSION=1
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,possible \
    --track-origins=yes --num-callers=40 --error-exitcode=0 --log-file="$LOG" \
    "$PYTHON" "$ROOT/tools/kernel_loop.py" "$ROUNDS"

"$PYTHON" - "$LOG" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
records = re.split(r"\n==\d+== \n", text)
bad = [r for r in records if re.search(r"Invalid (read|write|free)|uninitialised|Mismatched free|overlap", r)]
errors = [r for r in bad if "_fastpack" in r]  # CPython 3.11's own start-up reports are not ours
print(f"memcheck reports outside _fastpack (CPython start-up, int.from_bytes): {len(bad) - len(errors)}")
ours = [r for r in records if "definitely lost" in r and "_fastpack" in r]
summary = {k: re.search(rf"{k}: ([\d,]+) bytes in ([\d,]+) blocks", text) for k in
           ("definitely lost", "indirectly lost", "possibly lost", "still reachable")}
for k, m in summary.items():
    print(f"{k}: {m.group(1) if m else '0'} bytes in {m.group(2) if m else '0'} blocks (whole process)")
err = re.search(r"ERROR SUMMARY: (\d+) errors", text)
print(f"memcheck errors (invalid access / uninitialised): {len(errors)}; ERROR SUMMARY: {err.group(1) if err else '?'}")
print(f"definitely lost under _fastpack: {len(ours)} records")
for r in errors[:3] + ours[:3]:
    print(r[:3000])
sys.exit(1 if errors or ours else 0)
PY
