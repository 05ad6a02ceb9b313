#!/usr/bin/env bash
# Builds and runs tools/deflate_bound_check.c: fp_deflate.c's lower bounds on the dynamic block
# against its exact size, on synthetic symbol counts.
#
#   tools/deflate_bound_check.sh [TRIALS [SEED]]     # default 1,000,000 trials
#   SANITIZE=1 tools/deflate_bound_check.sh 100000   # under -fsanitize=address,undefined
set -euo pipefail
. "$(dirname "$0")/_cc.sh"  # sets ROOT, CC and FLAGS
OUT="${OUT:-/tmp/agora-token-deflate-bound-check}"
"$CC" $FLAGS -I"$ROOT/src/agora_token" "$ROOT/tools/deflate_bound_check.c" -o "$OUT"
exec "$OUT" "${1:-1000000}" "${2:-7}"
