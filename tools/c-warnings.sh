#!/usr/bin/env bash
# Compiles each of the kernel's own C files (src/agora_token/fp_*.c) on its own with
# -Wall -Wextra -Werror, in every variant the build can select, so a warning in our C fails CI.
# The C that Cython writes for _fastpack.pyx is not ours and is not checked (it warns about unused
# helpers and the like); that is why the extension itself is not built with -Werror.
#
#   tools/c-warnings.sh            # gcc, and clang where installed (or CC=... for one compiler)
#
# Variants: the default build (HMAC on SHA256_*; per-thread state), -DFP_FORCE_EVP (HMAC on EVP
# digests, as with a libcrypto built without the deprecated API) and -DFP_NO_THREAD_STATE (no
# per-thread state), each under the compiler's default C dialect and under -std=c99. CFLAGS (e.g.
# -I for Homebrew's OpenSSL) is passed through.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$ROOT/src/agora_token"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

if [ -n "${CC:-}" ]; then
    compilers=("$CC")
else
    compilers=()
    for cc in gcc clang; do command -v "$cc" >/dev/null 2>&1 && compilers+=("$cc"); done
    [ ${#compilers[@]} -gt 0 ] || { echo "c-warnings: no C compiler (gcc or clang) found" >&2; exit 1; }
fi
variants=("" "-DFP_FORCE_EVP" "-DFP_NO_THREAD_STATE")
dialects=("" "-std=c99")

read -r -a extra <<< "${CFLAGS:-}"
failed=0
checked=0
for cc in "${compilers[@]}"; do
    for file in "$SRC"/fp_*.c; do
        for variant in "${variants[@]}"; do
            for dialect in "${dialects[@]}"; do
                flags=(-O2 -Wall -Wextra -Werror $dialect $variant ${extra[@]+"${extra[@]}"})  # empty ones vanish
                if ! "$cc" "${flags[@]}" -c "$file" -o "$OUT/check.o"; then
                    echo "c-warnings: $cc ${flags[*]} $(basename "$file") FAILED" >&2
                    failed=1
                fi
                checked=$((checked + 1))
            done
        done
    done
done
[ "$failed" = 0 ] || exit 1
echo "c-warnings: $checked compiles of $(ls "$SRC"/fp_*.c | wc -l) files (${compilers[*]}; default, FP_FORCE_EVP, FP_NO_THREAD_STATE; default C and C99): no warnings"
