#!/usr/bin/env bash
# Builds tools/deflate_diff.c against src/agora_token/fp_deflate.c and the system zlib, then runs it:
#
#   tools/deflate_diff.sh [COUNT [SEED]]        # default 10,000,000 inputs
#   SANITIZE=1 tools/deflate_diff.sh 200000     # under -fsanitize=address,undefined
#   JOBS=2 tools/deflate_diff.sh 10000000       # split over processes (seeds SEED..SEED+JOBS-1)
#   VERIFY=1 tools/deflate_diff.sh 1000000      # also: on every input both lower bounds on the
#                                               # dynamic block are computed, and checked against
#                                               # its exact size (abort if above)
set -euo pipefail
. "$(dirname "$0")/_cc.sh"  # sets ROOT, CC and FLAGS
OUT="${OUT:-/tmp/agora-token-deflate-diff}"
[ "${VERIFY:-0}" = "1" ] && FLAGS="$FLAGS -DFPD_VERIFY_BOUNDS"
"$CC" $FLAGS -I"$ROOT/src/agora_token" "$ROOT/tools/deflate_diff.c" "$ROOT/src/agora_token/fp_deflate.c" -lz -o "$OUT"
COUNT="${1:-10000000}"
SEED="${2:-14}"
JOBS="${JOBS:-1}"
if [ "$JOBS" = "1" ]; then
    exec "$OUT" "$COUNT" "$SEED"
fi
pids=()
for ((j = 0; j < JOBS; j++)); do
    "$OUT" $((COUNT / JOBS)) $((SEED + j)) > "$OUT.$j.log" 2>&1 &
    pids+=($!)
done
status=0
for ((j = 0; j < JOBS; j++)); do
    wait "${pids[$j]}" || status=1
    cat "$OUT.$j.log"
done
exit $status
