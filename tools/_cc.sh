# Sourced by the scripts that build a C tool against fp_deflate.c: sets ROOT, CC and FLAGS
# (SANITIZE=1: AddressSanitizer and UBSan instead of -O2).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CC="${CC:-gcc}"
FLAGS="-O2 -g -Wall -Wextra"
if [ "${SANITIZE:-0}" = "1" ]; then
    FLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
fi
