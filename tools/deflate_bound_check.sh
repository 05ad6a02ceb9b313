#!/usr/bin/env bash
# Builds and runs tools/deflate_bound_check.c: fp_deflate.c's lower bounds on the dynamic block
# against its exact size, on synthetic symbol counts.
#
#   tools/deflate_bound_check.sh [TRIALS [SEED]]     # default 1,000,000 trials
#   SANITIZE=1 tools/deflate_bound_check.sh 100000   # under -fsanitize=address,undefined
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CC="${CC:-gcc}"
OUT="${OUT:-/tmp/agora-token-deflate-bound-check}"
FLAGS="-O2 -g -Wall -Wextra"
[ "${SANITIZE:-0}" = "1" ] && FLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
"$CC" $FLAGS -I"$ROOT/src/agora_token" "$ROOT/tools/deflate_bound_check.c" -o "$OUT"
exec "$OUT" "${1:-1000000}" "${2:-7}"
